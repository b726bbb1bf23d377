// ESLint for the whole repository: `npm run lint` (with --max-warnings 0, then prettier --check).
//
// What it checks, and why:
//  - correctness: ESLint's and typescript-eslint's recommended rules, plus three type-aware rules
//    for promises (a forgotten await or a promise passed where a callback's result is ignored);
//  - structure: no import cycles (import-x/no-cycle for run-time cycles, `local/no-type-cycle`
//    below for cycles that go through type-only imports) and the layer rules (LAYERS below):
//    which part of src may import which.
// Formatting is Prettier's job (.prettierrc.json); no formatting rule is enabled here.
//
// The layers, as enforced below:
//   src/sync     the pure engine: imports only src/sync and packages without Node APIs (no node:*,
//                fs, ws, vscode, better-sqlite3)
//   src/node     the engine's Node side: src/sync and packages; never src/vscode, src/server,
//                src/cli or vscode
//   src/server   the rendezvous server: src/sync/protocol and src/sync/util only; no vscode
//   src/vscode   the extension UI, with src/extension.ts: src/node and src/sync; never src/server,
//                src/cli or better-sqlite3 (the bundle must not contain server or native code).
//                Its view models (VIEW_MODELS) import no vscode and no other src/vscode module.
//   src/cli      the headless CLI: src/node, src/sync and src/server; no vscode
//   src          never imports test or bench
import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import ts from 'typescript';

const ROOT = import.meta.dirname;

// ---------------------------------------------------------------------------------------------
// Layers. Each part of src names what it may not import; the zones are import-x/no-restricted-paths
// (relative imports, resolved to files), the package lists are no-restricted-imports (bare names).
// ---------------------------------------------------------------------------------------------

/**
 * The view models of the extension: modules under src/vscode that never import `vscode`, so the
 * unit tests (test/unit/vscode) run them under plain Node. They may import each other, src/sync
 * and src/node, never another src/vscode module (which could pull `vscode` in at run time).
 * A new vscode-free module the unit tests import belongs in this list.
 */
const VIEW_MODELS = [
  'activity/activity-feed.ts',
  'app/commands.ts',
  'app/errors.ts',
  'app/localizer.ts',
  'app/space-paths.ts',
  'app/status-summary.ts',
  'app/transfer-tracker.ts',
  'app/user-names.ts',
  'chat/chat-messages.ts',
  'chat/chat-model.ts',
  'coedit/bound-editor.ts',
  'coedit/coedit-plan.ts',
  'coedit/follow-target.ts',
  'coedit/remote-cursor-marks.ts',
  'conflicts/conflict-labels.ts',
  'conflicts/conflict-lookup.ts',
  'conflicts/conflict-sides.ts',
  'conflicts/conflict-uri.ts',
  'contacts/contacts-model.ts',
  'contacts/invite-link.ts',
  'decorations/changed-files.ts',
  'folders/folder-location.ts',
  'folders/folders-model.ts',
  'folders/sync-state.ts',
  'trees/presence-icon.ts',
  'trees/tree-node.ts',
];

const ZONES = [
  {
    target: './src/sync',
    from: './',
    except: ['./src/sync', './node_modules'],
    message: 'src/sync is the pure engine: it imports only src/sync (and packages without Node APIs).',
  },
  {
    target: './src/server',
    from: './src/sync',
    except: ['./protocol', './util'],
    message: 'The server shares only the wire protocol and utilities with the engine (src/sync/protocol, src/sync/util).',
  },
  {
    target: './src/server',
    from: ['./src/node', './src/vscode', './src/cli', './src/extension.ts'],
    message: 'The server stands alone: no engine host, extension or CLI code.',
  },
  {
    target: './src/node',
    from: ['./src/vscode', './src/server', './src/cli', './src/extension.ts'],
    message: 'src/node is the engine side: it never imports the extension UI, the server or the CLI.',
  },
  {
    target: ['./src/vscode', './src/extension.ts'],
    from: ['./src/server', './src/cli'],
    message: 'The extension bundle must never pull in the server (native better-sqlite3) or the CLI.',
  },
  {
    target: VIEW_MODELS.map((f) => `./src/vscode/${f}`),
    from: './src/vscode',
    except: VIEW_MODELS.map((f) => `./${f}`),
    message: 'A view model imports only other view models (see VIEW_MODELS in eslint.config.mjs), src/sync and src/node.',
  },
  {
    target: './src/cli',
    from: ['./src/vscode', './src/extension.ts'],
    message: 'The CLI runs without VS Code: it may import src/node, src/sync and src/server, not the extension.',
  },
  {
    target: './src',
    from: ['./test', './bench'],
    message: 'Production code never imports tests or benchmarks.',
  },
];

const NODE_BUILTINS = builtinModules.filter((name) => !name.startsWith('_'));

/** Bare module names a part may not import (type imports included). */
const restricted = (message, names) => names.map((name) => ({ name, message }));
const NO_VSCODE = restricted('Only the extension UI (src/vscode, not its view models) imports `vscode`.', ['vscode']);
const NO_NATIVE = restricted('The extension bundle must never pull in native code (the server uses better-sqlite3).', ['better-sqlite3']);
const PURE_ENGINE = restricted('src/sync is the pure engine: no Node APIs, network, editor or database.', [
  ...NODE_BUILTINS,
  'ws',
  'vscode',
  'better-sqlite3',
]);

/** One config block per layer: a file is in exactly one, so no block overrides another's list. */
const layer = (files, paths, patterns = [], ignores = []) => ({
  files,
  ignores,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }] },
});

const LAYERS = [
  layer(['src/sync/**/*.ts'], PURE_ENGINE, [{ group: ['node:*'], message: 'src/sync is the pure engine: no Node APIs.' }]),
  layer(['src/node/**/*.ts', 'src/server/**/*.ts', 'src/cli/**/*.ts'], NO_VSCODE),
  layer(
    VIEW_MODELS.map((f) => `src/vscode/${f}`),
    [...NO_VSCODE, ...NO_NATIVE],
  ),
  layer(
    ['src/vscode/**/*.ts', 'src/extension.ts'],
    NO_NATIVE,
    [],
    VIEW_MODELS.map((f) => `src/vscode/${f}`),
  ),
];

// ---------------------------------------------------------------------------------------------
// local/no-type-cycle: import-x/no-cycle skips every `import type` (it only looks for cycles that
// exist at run time). This rule follows every relative import, type-only ones and `import('x').T`
// type queries included, and reports the cycles no-cycle does not: those through a type import.
// ---------------------------------------------------------------------------------------------

/** @type {Map<string, { mtime: number, edges: { target: string, typeOnly: boolean, pos: number, end: number }[] }>} */
const graphCache = new Map();

function resolveRelative(fromFile, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** The relative imports of a file: where they lead, whether only types cross, and where they are. */
function importsOf(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges = [];
  const add = (literal, typeOnly) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const target = resolveRelative(file, literal.text);
    if (target) edges.push({ target, typeOnly, pos: literal.getStart(source), end: literal.getEnd() });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const allNamedTypes =
        !!clause &&
        !clause.name &&
        !!bindings &&
        ts.isNamedImports(bindings) &&
        bindings.elements.length > 0 &&
        bindings.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause && (clause.isTypeOnly || allNamedTypes));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require'))
        add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function edgesOf(file) {
  let mtime;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    return [];
  }
  const cached = graphCache.get(file);
  if (cached && cached.mtime === mtime) return cached.edges;
  const edges = importsOf(file, fs.readFileSync(file, 'utf8'));
  graphCache.set(file, { mtime, edges });
  return edges;
}

/** Shortest chain of imports from `start` back to `goal`, or undefined; `valueOnly` skips type edges. */
function route(start, goal, valueOnly) {
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const edge of edgesOf(file)) {
      if (valueOnly && edge.typeOnly) continue;
      if (edge.target === goal) {
        const chain = [goal];
        for (let at = file; at !== undefined; at = previous.get(at)) chain.unshift(at);
        return chain;
      }
      if (!previous.has(edge.target)) {
        previous.set(edge.target, file);
        queue.push(edge.target);
      }
    }
  }
  return undefined;
}

const noTypeCycle = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Forbid import cycles that go through type-only imports (import-x/no-cycle reports the others).',
    },
    schema: [],
    messages: { cycle: 'Dependency cycle through type imports: {{route}}' },
  },
  create(context) {
    const file = context.physicalFilename;
    if (!file.endsWith('.ts')) return {};
    return {
      'Program:exit'() {
        const text = context.sourceCode.text;
        for (const edge of importsOf(file, text)) {
          const back = route(edge.target, file, false);
          if (!back) continue;
          // A cycle made of run-time imports only is import-x/no-cycle's to report.
          if (!edge.typeOnly && route(edge.target, file, true)) continue;
          const loc = {
            start: context.sourceCode.getLocFromIndex(edge.pos),
            end: context.sourceCode.getLocFromIndex(edge.end),
          };
          const names = [file, ...back].map((f) => path.relative(ROOT, f));
          context.report({ loc, messageId: 'cycle', data: { route: names.join(' -> ') } });
        }
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------

const TS_FILES = ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'];

export default defineConfig(
  {
    ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-artifacts/**', '.e2e-cache/**', '.bench/**', '**/*.d.ts'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error', reportUnusedInlineConfigs: 'error' },
  },
  js.configs.recommended,

  // TypeScript: src, test, bench. Type information comes from tsconfig.json and tsconfig.sync.json
  // (src/sync is its own project, without Node types).
  {
    files: TS_FILES,
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
    },
    plugins: { 'import-x': importX, local: { rules: { 'no-type-cycle': noTypeCycle } } },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.d.ts', '.js', '.json', '.node'] })],
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `const { dropped: _dropped, ...rest } = x` is how a property is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'local/no-type-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: ZONES }],
    },
  },
  ...LAYERS,

  // Plain JavaScript run by Node (CommonJS): the bundler script and the helper scripts.
  {
    files: ['esbuild.js', 'scripts/**/*.js', 'tools/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  // The chat webview script, run in the webview (a browser); tsconfig.webview.json type-checks it.
  {
    files: ['media/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, acquireVsCodeApi: 'readonly' } },
  },
  // This file: an ES module run by Node.
  {
    files: ['eslint.config.mjs'],
    languageOptions: { globals: globals.node },
  },
);
