/**
 * Paths no peer may ever write here and this replica never sends, whatever a synced
 * `.sharedignore` says: version-control folders. Their files run code on the machine that holds
 * them without anyone opening them (git hooks; `core.fsmonitor`, `core.hooksPath` or a filter in
 * `.git/config`; hooks in Mercurial's `.hg/hgrc`, Jujutsu's and Pijul's configs), and they hold
 * secrets (remote URLs with tokens, credential helpers). The check sits below the ignore rules, in
 * the engine, so no rule a member syncs can lift it; only this device's own setting can, and
 * only for `.git` without what runs code or redirects git (see `GitSharing`).
 */
import { foldCase, HFS_IGNORABLE } from './path';
import type { EntryType } from './file-record';

/** This device's own choice for one folder; never synced. */
export interface ProtectedPathPolicy {
  /** Sync `.git` folders, all but their hooks, configs, redirects and symlinks. */
  readonly syncGit: boolean;
}

export const DEFAULT_PROTECTED_PATH_POLICY: ProtectedPathPolicy = { syncGit: false };

export type ProtectedPathReason = 'versionControl' | 'gitHooks' | 'gitConfig' | 'gitRedirect' | 'gitSymlink';

/** Folders of version-control systems whose contents can run code or hold credentials. */
const VCS_FOLDERS = new Set(['.git', '.hg', '.svn', '.bzr', '.jj', '.pijul', '_darcs']);
/** Windows' 8.3 aliases of those names (`GIT~1` opens `.git`), as git itself refuses them. */
const VCS_SHORT_NAME = /^(?:git|hg|svn|bzr|jj|pijul)~[0-9]+$/;
/**
 * ASCII paths with none of those names anywhere, the common case: answered without splitting
 * and folding every segment, since every scanned and every sent path is checked.
 */
const PLAIN_ASCII = /^[\u0020-\u007e]*$/;
const VCS_HINT = /(?:^|\/)(?:\.?(?:git|hg|svn|bzr|jj|pijul)|_darcs)(?:~|\/|$)/i;
/** Files in a git folder that configure it: commands to run, credential helpers, remotes. */
const GIT_CONFIG_NAMES = new Set(['config', 'config.worktree']);
/** Files that make git use another folder as the repository, whose hooks and config then apply. */
const GIT_REDIRECT_NAMES = new Set(['commondir', 'gitdir']);

/**
 * Why `path` (of `type`) must not sync, or undefined when it may. Every segment counts: a
 * repository nested anywhere in the folder is protected the same way.
 */
export function protectedPath(path: string, type: EntryType, policy: ProtectedPathPolicy): ProtectedPathReason | undefined {
  if (PLAIN_ASCII.test(path) && !VCS_HINT.test(path)) return undefined;
  const segments = path.split('/').map(vcsKey);
  const at = segments.findIndex((s) => VCS_FOLDERS.has(s) || VCS_SHORT_NAME.test(s));
  if (at < 0) return undefined;
  if (!policy.syncGit || segments[at] !== '.git') return 'versionControl';
  const inside = segments.slice(at + 1);
  // `.git` as a file is a `gitdir:` pointer to a repository anywhere, hooks included.
  if (inside.length === 0) return type === 'directory' ? undefined : 'gitRedirect';
  if (inside.includes('hooks')) return 'gitHooks';
  if (type === 'symlink') return 'gitSymlink';
  const name = inside[inside.length - 1]!;
  if (GIT_CONFIG_NAMES.has(name)) return 'gitConfig';
  if (GIT_REDIRECT_NAMES.has(name)) return 'gitRedirect';
  return undefined;
}

/** What a problem line says about a refused path. */
export function protectedPathMessage(reason: ProtectedPathReason): string {
  switch (reason) {
    case 'versionControl':
      return 'version-control folders (.git, .hg, .svn, .bzr, .jj, .pijul, _darcs) never sync: their files can run code or hold credentials';
    case 'gitHooks':
      return 'git hooks never sync: they run code on the next git command';
    case 'gitConfig':
      return 'git config files never sync: they can run commands and hold remotes and credential helpers';
    case 'gitRedirect':
      return 'files that point git at another repository (.git as a file, commondir, gitdir) never sync';
    case 'gitSymlink':
      return 'symlinks inside .git never sync: they could lead git to hooks or config elsewhere';
  }
}

/** A segment as a case-insensitive disk compares it, without the characters HFS+ ignores. */
function vcsKey(segment: string): string {
  return foldCase(segment).replace(HFS_IGNORABLE, '');
}
