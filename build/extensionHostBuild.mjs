// What dist/extension.js is built from, shared by esbuild.mjs and the tests that check the bundle.
import { oneVscodeNamespace } from './vscodeNamespace.mjs';

/** The extension host bundle's own options; esbuild.mjs adds minification and source maps. */
export const extensionHostOptions = {
  bundle: true,
  entryPoints: ['src/extension.ts'],
  outfile: 'dist/extension.js',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  plugins: [oneVscodeNamespace(), separateEngine()],
};

/** Turns the extension's require of the engine sources into a require of dist/engine.js. */
function separateEngine() {
  return {
    name: 'separate-engine',
    setup(build) {
      build.onResolve({ filter: /\/core\/engineBundle$/ }, () => ({ path: './engine.js', external: true }));
    },
  };
}
