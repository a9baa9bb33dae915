import * as assert from 'node:assert/strict';
import path from 'node:path';
import { build } from 'esbuild';
import { extensionHostOptions } from '../../../build/extensionHostBuild.mjs';

const repoRoot = path.resolve(__dirname, '../../..');

describe('the extension bundle loaded at activation', () => {
  it('holds only the VS Code layer: client-node, ws, sql.js and tar-stream come with the engine on first use', async function () {
    this.timeout(30_000);
    // As esbuild.mjs builds dist/extension.js: the engine bundle is a separate file required lazily.
    const result = await build({ ...extensionHostOptions, absWorkingDir: repoRoot, write: false, metafile: true, logLevel: 'silent' });
    const packages = Object.keys(result.metafile.inputs).filter((file) => file.includes('node_modules/'));
    const importers = Object.entries(result.metafile.inputs)
      .filter(([file]) => !file.includes('node_modules/'))
      .flatMap(([file, info]) => info.imports.filter((i) => i.path.includes('node_modules/')).map((i) => `${file} -> ${i.path}`));
    assert.deepEqual(importers, [], `heavy modules reach the activation bundle: ${packages.length} files from node_modules`);
  });
});
