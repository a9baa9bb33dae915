// esbuild wraps every `import * as vscode from 'vscode'` of an external CommonJS module in its own
// __toESM copy of the whole API object (about 300 properties). With one copy per source file, loading
// dist/extension.js in the extension host spent most of its time copying; routing every import through
// one bundled module makes that a single copy.
const NAMESPACE = 'vscode-api';

/** An esbuild plugin: all imports of `vscode` share one namespace object built once at load. */
export function oneVscodeNamespace() {
  return {
    name: 'one-vscode-namespace',
    setup(build) {
      build.onResolve({ filter: /^vscode$/ }, (args) =>
        args.namespace === NAMESPACE ? { path: 'vscode', external: true } : { path: 'vscode', namespace: NAMESPACE },
      );
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, () => ({ contents: "export * from 'vscode';", loader: 'js' }));
    },
  };
}
