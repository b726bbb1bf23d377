import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { protectedPath, protectedPathMessage, type ProtectedPathPolicy } from '../../../../src/sync/model/protected-paths';

const OFF: ProtectedPathPolicy = { syncGit: false };
const ON: ProtectedPathPolicy = { syncGit: true };

test('version-control folders are protected at any depth, in any letter case and spelling a disk treats as the same', () => {
  for (const path of [
    '.git',
    '.git/config',
    '.git/hooks/pre-commit',
    'sub/.git/HEAD',
    '.GIT/hooks/x',
    '.Git/objects/ab/cd',
    '.g\u200cit/hooks/pre-commit',
    'GIT~1/hooks/pre-commit',
    '.hg/hgrc',
    'a/b/.svn/wc.db',
    '.bzr/branch/branch.conf',
    '.jj/repo/config.toml',
    '.pijul/config',
    '_darcs/prefs/defaults',
  ])
    assert.equal(protectedPath(path, 'file', OFF), 'versionControl', path);
});

test('ordinary names that merely resemble them are not protected', () => {
  for (const path of [
    '.gitignore',
    '.gitattributes',
    'git/hooks/x',
    'my.git/config',
    '.github/workflows/ci.yml',
    'hooks/pre-commit',
    'config',
  ])
    assert.equal(protectedPath(path, 'file', OFF), undefined, path);
});

test('with the opt-in, .git syncs except hooks, configs, repository pointers and symlinks; other VCS folders never do', () => {
  assert.equal(protectedPath('.git', 'directory', ON), undefined);
  assert.equal(protectedPath('.git/HEAD', 'file', ON), undefined);
  assert.equal(protectedPath('.git/refs/heads/main', 'file', ON), undefined);
  assert.equal(protectedPath('.git/objects/ab/cdef', 'file', ON), undefined);
  assert.equal(protectedPath('.git/hooks', 'directory', ON), 'gitHooks');
  assert.equal(protectedPath('.git/hooks/pre-commit', 'file', ON), 'gitHooks');
  assert.equal(protectedPath('.git/modules/lib/hooks/post-checkout', 'file', ON), 'gitHooks');
  assert.equal(protectedPath('.git/config', 'file', ON), 'gitConfig');
  assert.equal(protectedPath('.GIT/CONFIG', 'file', ON), 'gitConfig');
  assert.equal(protectedPath('.git/modules/lib/config', 'file', ON), 'gitConfig');
  assert.equal(protectedPath('.git/worktrees/w/config.worktree', 'file', ON), 'gitConfig');
  assert.equal(protectedPath('.git', 'file', ON), 'gitRedirect', '.git as a file is a gitdir: pointer');
  assert.equal(protectedPath('.git', 'symlink', ON), 'gitRedirect');
  assert.equal(protectedPath('.git/commondir', 'file', ON), 'gitRedirect');
  assert.equal(protectedPath('.git/worktrees/w/gitdir', 'file', ON), 'gitRedirect');
  assert.equal(protectedPath('.git/info', 'symlink', ON), 'gitSymlink');
  assert.equal(protectedPath('.hg/hgrc', 'file', ON), 'versionControl');
});

test('every reason has its own message', () => {
  const reasons = ['versionControl', 'gitHooks', 'gitConfig', 'gitRedirect', 'gitSymlink'] as const;
  assert.equal(new Set(reasons.map(protectedPathMessage)).size, reasons.length);
});
