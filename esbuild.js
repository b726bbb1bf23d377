// Bundles what the extension ships into dist/: the extension itself (`vscode` is provided by the
// editor at run time), the engine host it forks, and the worker thread the host's file system
// pool starts. fs-worker-pool.ts finds the worker through __dirname, which in a bundle is dist/,
// so the worker must sit next to the host. Nothing native may enter a bundle: the check below
// fails the build if the server (better-sqlite3) or any .node file is pulled in.
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
// `npm run watch:bundle`: rebuild the bundles on every change, until stopped.
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  metafile: true,
  // Optional speed-ups ws loads if present; it works without them.
  external: ['bufferutil', 'utf-8-validate'],
};

const entries = [
  { entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: [...common.external, 'vscode'] },
  { entryPoints: ['src/node/engine/engine-host.ts'], outfile: 'dist/engine-host.js' },
  { entryPoints: ['src/node/workers/fs-worker.ts'], outfile: 'dist/fs-worker.js' },
];

const FORBIDDEN = [/(^|\/)src\/server\//, /better-sqlite3/, /\.node$/];

function forbiddenIn(outfile, metafile) {
  const bad = Object.keys(metafile.inputs).filter((input) => FORBIDDEN.some((re) => re.test(input)));
  return bad.length > 0 ? `${outfile} must not contain native or server code: ${bad.join(', ')}` : undefined;
}

/** Watching, the same check runs after every rebuild and reports instead of stopping. */
const checkEveryBuild = (outfile) => ({
  name: 'no-native-code',
  setup(build) {
    build.onEnd((result) => {
      const problem = result.metafile && forbiddenIn(outfile, result.metafile);
      if (problem) console.error(problem);
    });
  },
});

async function main() {
  for (const entry of entries) {
    if (watch) {
      const context = await esbuild.context({ ...common, ...entry, plugins: [checkEveryBuild(entry.outfile)] });
      await context.watch();
      continue;
    }
    const result = await esbuild.build({ ...common, ...entry });
    const problem = forbiddenIn(entry.outfile, result.metafile);
    if (problem) throw new Error(problem);
  }
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
