import * as fc from 'fast-check';
import { hexArb } from './hex-arbitrary';

/**
 * Mutations of a valid JSON message at the value level: a field replaced by a value of another
 * type, removed, or a stray field added, anywhere in the tree. The text-level mutations of
 * mutate.ts break the JSON itself; these keep it JSON and test the validation after parsing.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const odd: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 53), 1e308, '', '__proto__', 'constructor', [], {}),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  hexArb(15, 65),
  fc.integer(),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

interface Edit {
  readonly pick: number;
  readonly action: 'replace' | 'remove' | 'add';
  readonly key: string;
  readonly value: Json;
}

const edit: fc.Arbitrary<Edit> = fc.record({
  pick: fc.nat(),
  action: fc.constantFrom('replace' as const, 'remove' as const, 'add' as const),
  key: fc.constantFrom('t', 'id', 'v', 'device', 'doc', 'members', 'role', 'user', 'items', 'join', 'name', 'link', 'x', '__proto__'),
  value: odd,
});

/** Every object and array in the tree, the root first. */
function containers(value: Json, out: (Json[] | { [key: string]: Json })[] = []): (Json[] | { [key: string]: Json })[] {
  if (value !== null && typeof value === 'object') {
    out.push(value);
    for (const child of Array.isArray(value) ? value : Object.values(value)) containers(child, out);
  }
  return out;
}

function applyEdit(root: Json, e: Edit): void {
  const all = containers(root);
  if (all.length === 0) return;
  // A copy: the same constant value inserted twice must not become one shared (or cyclic) object.
  e = { ...e, value: JSON.parse(JSON.stringify(e.value)) as Json };
  const target = all[e.pick % all.length]!;
  if (Array.isArray(target)) {
    const at = target.length === 0 ? 0 : e.pick % target.length;
    if (e.action === 'remove') target.splice(at, 1);
    else if (e.action === 'add') target.push(e.value);
    else target[at] = e.value;
    return;
  }
  const keys = Object.keys(target);
  const key = e.action === 'add' || keys.length === 0 ? e.key : keys[e.pick % keys.length]!;
  if (e.action === 'remove') delete target[key];
  else Object.defineProperty(target, key, { value: e.value, enumerable: true, writable: true, configurable: true });
}

/** The JSON text of a valid value after 1 to 3 value-level edits. */
export function editedJson(valid: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([value, edits]) => {
    const copy = JSON.parse(JSON.stringify(value)) as Json;
    for (const e of edits) applyEdit(copy, e);
    return JSON.stringify(copy);
  });
}
