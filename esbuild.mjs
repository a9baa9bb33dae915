// Builds the extension host bundle, the report webview bundle and the extension-host test bundle.
// Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { extensionHostOptions } from './build/extensionHostBuild.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  // Keeps stack traces and the log readable even when minified.
  keepNames: true,
};

/** @type {esbuild.BuildOptions} */
const extensionHost = { ...common, ...extensionHostOptions };

// client-node, ws and sql.js live in their own bundle, required by the extension on first use.
/** @type {esbuild.BuildOptions} */
const engineBundle = {
  ...extensionHost,
  entryPoints: ['src/core/engineBundle.ts'],
  outfile: 'dist/engine.js',
  plugins: [copySqlWasm()],
};

/** @type {esbuild.BuildOptions} */
const commandLine = {
  ...extensionHost,
  plugins: [],
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/nkvm.js',
  external: [],
  banner: { js: '#!/usr/bin/env node' },
};

const reportEntry = 'src/webview/report/main.ts';
/** @type {esbuild.BuildOptions} */
const reportWebview = {
  ...common,
  entryPoints: [reportEntry],
  outfile: 'dist/webview/report.js',
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  tsconfig: existsSync('src/webview/tsconfig.json') ? 'src/webview/tsconfig.json' : undefined,
};

/** @type {esbuild.BuildOptions} */
const extensionHostTests = {
  ...common,
  entryPoints: extensionHostTestEntries(),
  outbase: '.',
  outdir: 'out',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Mocha stays a real module so the test runner and the test files share one instance.
  external: ['vscode', 'mocha'],
  sourcemap: true,
  minify: false,
};

if (production) {
  // Stale source maps from a development build would otherwise end up in the .vsix.
  rmSync('dist', { recursive: true, force: true });
}

const builds = [extensionHost, engineBundle, commandLine];
if (existsSync(reportEntry)) {
  builds.push(reportWebview);
}
// The packaged extension never contains tests, so a production build skips them.
if (!production) {
  builds.push(extensionHostTests);
}

if (watch) {
  for (const options of builds) {
    const context = await esbuild.context(options);
    await context.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}

function extensionHostTestEntries() {
  const root = 'test/vscode';
  if (!existsSync(root)) {
    return [];
  }
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file === 'index.ts' || file.endsWith('.test.ts'))
    .map((file) => path.join(root, file));
  // The activation benchmark runs inside the extension host too.
  return [...files, 'test/bench/activationProbe.ts'];
}

/** sql.js loads its WebAssembly from disk at run time, so the file must sit next to the bundle. */
function copySqlWasm() {
  return {
    name: 'copy-sql-wasm',
    setup(build) {
      build.onEnd((result) => {
        if (result.errors.length > 0) {
          return;
        }
        mkdirSync('dist', { recursive: true });
        copyFileSync('node_modules/sql.js/dist/sql-wasm.wasm', 'dist/sql-wasm.wasm');
      });
    },
  };
}
