// Writes l10n/bundle.l10n.json: every string the extension passes to `l10n.t`, the source for
// translations (bundle.l10n.<locale>.json next to it). `npm run l10n` after changing strings;
// a unit test fails while the bundle is out of date.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
// The first argument is a string literal in single quotes, or in double quotes when the text has
// an apostrophe (Prettier picks the quote that needs fewer escapes).
const CALL = /\bl10n\.t\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;

function extract(root = ROOT) {
  const strings = new Set();
  const ui = path.join(root, 'src', 'vscode');
  const files = [path.join(root, 'src', 'extension.ts'), ...fs.readdirSync(ui, { recursive: true }).map((f) => path.join(ui, f))];
  for (const file of files.filter((f) => f.endsWith('.ts'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(CALL))
      strings.add((match[1] ?? match[2]).replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c));
  }
  const bundle = {};
  for (const s of [...strings].sort()) bundle[s] = s;
  return bundle;
}

module.exports = { extract };

if (require.main === module) {
  fs.writeFileSync(path.join(ROOT, 'l10n', 'bundle.l10n.json'), JSON.stringify(extract(), null, 2) + '\n');
}
