import { isAncestor, parentOf } from '../model/path';

/** The scope paths that no other scope path contains. */
export function topmostPaths(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)].sort();
  const out: string[] = [];
  for (const path of unique) {
    if (path === '') return [''];
    if (!hasAncestorIn(new Set(out), path)) out.push(path);
  }
  return out;
}

export function hasAncestorIn(directories: ReadonlySet<string>, path: string): boolean {
  for (let parent = parentOf(path); parent !== ''; parent = parentOf(parent)) if (directories.has(parent)) return true;
  return false;
}

export function inScope(scope: readonly string[] | undefined, path: string): boolean {
  return scope === undefined || scope.some((s) => s === path || isAncestor(s, path));
}
