import { randomInt } from 'node:crypto';
import type { Clock } from '../../sync/ports/clock';
import type { Random } from '../../sync/ports/random';

export const systemClock: Clock = { now: () => Date.now() };

/** Random ids for index incarnations and the like; not a seeded stream. */
export const systemRandom: Random = { nextUint32: () => randomInt(0, 2 ** 32) };
