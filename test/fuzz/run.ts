import * as fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { AllocationMeter } from './allocation-meter';
import { FuzzViolation, type AnyTarget } from './fuzz-target';
import { HangWatchdog } from './hang-watchdog';
import { TARGETS } from './targets';

/**
 * `npm run fuzz -- [--runs N] [--only NAME[,NAME]] [--seed S] [--path P] [--hang-ms MS] [--list]`: feeds
 * every decoder of outside bytes N inputs (docs in README.md, "Fuzzing"), one decoder after the
 * other, and prints per decoder the inputs, the time, the slowest input, the largest allocation
 * and the peak memory. A failure prints the input, its seed and the command that replays it.
 */

/** The allocation bound every decoder is held to: no single buffer larger than its input plus this. */
const ALLOCATION_SLACK = 64 * 1024;

interface Args {
  runs: number;
  only: string[] | undefined;
  seed: number;
  path: string | undefined;
  hangMs: number;
  list: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 1_000_000, only: undefined, seed: Date.now() % 2 ** 31, path: undefined, hangMs: 60_000, list: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const text = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const number = (): number => {
      const v = Number(text());
      if (!Number.isSafeInteger(v)) throw new Error(`${flag} needs an integer`);
      return v;
    };
    if (flag === '--runs') args.runs = number();
    else if (flag === '--only') args.only = text().split(',');
    else if (flag === '--seed') args.seed = number();
    else if (flag === '--path') args.path = text();
    else if (flag === '--hang-ms') args.hangMs = number();
    else if (flag === '--list') args.list = true;
    else throw new Error(`unknown argument ${flag} (expected --runs N --only NAME[,NAME] --seed S --path P --hang-ms MS --list)`);
  }
  return args;
}

interface Outcome {
  readonly name: string;
  readonly runs: number;
  readonly refused: number;
  readonly seconds: number;
  readonly maxMs: number;
  readonly slowest: number;
  readonly largest: number;
  readonly largestInput: number;
  readonly peakRss: number;
  readonly retained: number;
  readonly failed: boolean;
}

const MiB = 1024 * 1024;
const collect = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);

function fuzz(target: AnyTarget, args: Args, meter: AllocationMeter, watchdog: HangWatchdog): Outcome {
  const replay = (seed: number, path?: string): string =>
    `npm run fuzz -- --only ${target.name} --seed ${seed}${path ? ` --path ${path}` : ''} --runs ${args.runs}`;
  watchdog.watch(`Target ${target.name}, seed ${args.seed}; replay: ${replay(args.seed, args.path)}`);
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  let runs = 0;
  let refused = 0;
  let maxMs = 0;
  /** fast-check's path of the slowest input: `--path` replays that one input. */
  let slowest = 0;
  let largest = 0;
  let largestInput = 0;
  let peakRss = 0;
  const started = performance.now();
  const property = fc.property(target.input, (input) => {
    const size = target.size(input);
    meter.reset();
    const t0 = performance.now();
    try {
      target.run(input);
    } catch (err) {
      if (err instanceof FuzzViolation || !target.isAllowed(err)) throw err;
      refused++;
    }
    const ms = performance.now() - t0;
    watchdog.tick();
    runs++;
    if (ms > maxMs) {
      maxMs = ms;
      slowest = runs - 1;
    }
    if (meter.largest > largest) {
      largest = meter.largest;
      largestInput = size;
    }
    if (meter.largest > size + ALLOCATION_SLACK)
      throw new FuzzViolation(`allocated ${meter.largest} bytes for a ${size}-byte input (bound: input + ${ALLOCATION_SLACK})`);
    if (runs % 4096 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    // Long runs say how far they got, so a run stopped early still has figures.
    if (runs % 100_000 === 0)
      console.log(
        `  ${target.name}: ${runs} inputs, ${refused} refused, ${((performance.now() - started) / 1000).toFixed(0)} s, max ${maxMs.toFixed(2)} ms/input`,
      );
  });
  const details = fc.check(property, { numRuns: args.runs, seed: args.seed, ...(args.path ? { path: args.path } : {}) });
  target.finish?.();
  const seconds = (performance.now() - started) / 1000;
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  collect();
  const retained = process.memoryUsage().heapUsed - heapBefore;
  if (details.failed) {
    const error =
      details.errorInstance instanceof Error
        ? (details.errorInstance.stack ?? details.errorInstance.message)
        : String(details.errorInstance);
    console.log(`\nFAILED ${target.name}: ${error}\n${fc.defaultReportMessage(details) ?? ''}`);
    console.log(`Replay: ${replay(details.seed, details.counterexamplePath ?? undefined)}\n`);
  }
  return { name: target.name, runs, refused, seconds, maxMs, slowest, largest, largestInput, peakRss, retained, failed: details.failed };
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const unknown = (args.only ?? []).filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length > 0) {
    console.error(`no fuzz target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
    return 2;
  }
  const targets = TARGETS.filter((t) => !args.only || args.only.includes(t.name));
  if (args.list) {
    for (const t of targets) console.log(`${t.name}\n  covers: ${t.covers}\n  may throw: ${t.allowed}`);
    return 0;
  }
  const meter = new AllocationMeter();
  meter.install();
  const watchdog = new HangWatchdog(args.hangMs);
  console.log(`fuzz: ${args.runs} inputs per decoder, seed ${args.seed}, ${targets.length} decoders`);
  console.log('decoder                inputs   refused   seconds  max ms/input  largest alloc  peak RSS  heap kept');
  const outcomes: Outcome[] = [];
  for (const target of targets) {
    const o = fuzz(target, args, meter, watchdog);
    outcomes.push(o);
    console.log(
      [
        o.name.padEnd(20),
        String(o.runs).padStart(8),
        String(o.refused).padStart(9),
        o.seconds.toFixed(1).padStart(9),
        o.maxMs.toFixed(2).padStart(13),
        `${(o.largest / 1024).toFixed(1)} KiB/${o.largestInput} B`.padStart(18),
        `${(o.peakRss / MiB).toFixed(0)} MiB`.padStart(9),
        `${(o.retained / MiB).toFixed(1)} MiB`.padStart(10),
        o.failed ? ' FAILED' : '',
      ].join(' '),
    );
    if (args.path === undefined)
      console.log(`  slowest input: npm run fuzz -- --only ${o.name} --seed ${args.seed} --path ${o.slowest} --runs 1`);
  }
  watchdog.stop();
  const failed = outcomes.filter((o) => o.failed);
  const total = outcomes.reduce((n, o) => n + o.runs, 0);
  console.log(
    `fuzz: ${total} inputs, ${failed.length === 0 ? 'no failure' : `FAILED: ${failed.map((o) => o.name).join(', ')}`}; ` +
      `bound: no allocation above input + ${ALLOCATION_SLACK / 1024} KiB`,
  );
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = main();
