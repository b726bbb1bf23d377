const Y = require('/work/wt/cohost/node_modules/yjs');
const { CoeditSession } = require('/work/wt/cohost/out/src/sync/coedit/coedit-session');
const seed = 'x'.repeat(1024*1024);
const s = new CoeditSession({ seed, user: { id: 'a', name: 'a' }, broadcast: () => {} });
let r = 1;
for (let i = 0; i < 100000; i++) { r = (r * 1103515245 + 12345) >>> 0; const at = r % s.text.length; if (i % 3 === 2) s.text.delete(at, 1); else s.text.insert(at, 'y'); }
const upd = Y.encodeStateAsUpdate(s.doc);
console.log('text', s.text.length, 'step2', upd.length, 'ratio', (upd.length / s.text.length).toFixed(2));
