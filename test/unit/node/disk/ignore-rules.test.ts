import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IgnoreRules } from '../../../../src/node/disk/ignore-rules';

test('paths the matcher cannot judge are not ignored and do not throw: the path check refuses them', () => {
  const rules = new IgnoreRules('*.log\n');
  for (const path of ['../x', '/x', './x', '../x.log', '..', '.'])
    for (const directory of [false, true]) assert.equal(rules.ignores(path, directory), false, path);
});

test('relative paths are still matched', () => {
  const rules = new IgnoreRules('*.log\nbuild/\n');
  assert.equal(rules.ignores('a/b.log', false), true);
  assert.equal(rules.ignores('build', true), true);
  assert.equal(rules.ignores('build', false), false);
  assert.equal(rules.ignores('.git', true), true);
  assert.equal(rules.ignores('notes.txt', false), false);
});
