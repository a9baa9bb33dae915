import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { extensionHostOptions } from '../../../build/extensionHostBuild.mjs';

const repoRoot = path.resolve(__dirname, '../../..');

/**
 * A stand-in for the extension host's `vscode` module with the real API's top-level names (its
 * classes, enums and namespaces), counting how often its property list is read: each read is a
 * copy of the whole API that the extension pays for while it activates.
 */
function countingVscodeApi(): { api: object; propertyListReads: () => number } {
  const declarations = readFileSync(path.join(repoRoot, 'node_modules/@types/vscode/index.d.ts'), 'utf8');
  const anything: ProxyHandler<object> = { get: (_target, key) => (key === 'then' ? undefined : () => undefined) };
  const target: Record<string, unknown> = {};
  for (const [, kind, name] of declarations.matchAll(/^\texport (class|enum|namespace) (\w+)/gm)) {
    target[name] = kind === 'class' ? class {} : new Proxy({}, anything);
  }
  let reads = 0;
  const api = new Proxy(target, {
    ownKeys: (t) => {
      reads++;
      return Reflect.ownKeys(t);
    },
  });
  return { api, propertyListReads: () => reads };
}

describe('loading the extension bundle', () => {
  it('copies the vscode API once, not once per source file that imports it', async function () {
    this.timeout(30_000);
    const result = await build({ ...extensionHostOptions, absWorkingDir: repoRoot, write: false, logLevel: 'silent' });
    const code = result.outputFiles[0].text;
    const { api, propertyListReads } = countingVscodeApi();
    const file = path.join(repoRoot, 'dist/extension.js');
    const realRequire = createRequire(file);
    const module = { exports: {} as Record<string, unknown> };
    const load = new Function('exports', 'require', 'module', '__filename', '__dirname', code);
    load(module.exports, (id: string) => (id === 'vscode' ? api : realRequire(id)), module, file, path.dirname(file));

    assert.equal(typeof module.exports['activate'], 'function');
    assert.equal(propertyListReads(), 1);
  });
});
