import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { SandboxFixture, startSandbox } from '../sandboxFixture';
import { runNkvm, sandboxEnv } from '../cli/runNkvm';

const root = resolve(__dirname, '../../..');

describe('compression settings through the bundled nkvm command line', function () {
  this.timeout(90_000);
  let sb: SandboxFixture;
  let bundle: string;

  before(async () => {
    sb = await startSandbox();
    bundle = join(sb.dir, 'nkvm.js');
    // As esbuild.mjs ships dist/nkvm.js: one minified CJS file, so the compression workers must need no file beside it.
    await build({ entryPoints: [join(root, 'src/cli/main.ts')], outfile: bundle, bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, keepNames: true, logLevel: 'error' });
    // dist/ holds sql.js's WebAssembly beside the bundles; the history store loads it from there.
    copyFileSync(join(root, 'node_modules/sql.js/dist/sql-wasm.wasm'), join(sb.dir, 'sql-wasm.wasm'));
  });
  after(async () => sb?.stop());

  const nkvm = (args: string[], env: Record<string, string>) => runNkvm(args, { cwd: sb.dir, env: { ...sandboxEnv(sb), ...env }, bundle });

  it('NKVM_COMPRESSION=local-gzip with an exclude path: a .tar.gz that gzip -t accepts, without the excluded folder, whose sha256sum is the printed one', async () => {
    const r = await nkvm(['backup', 'media/archive-2019'], { NKVM_COMPRESSION: 'local-gzip', NKVM_COMPRESSION_LEVEL: '1', NKVM_BACKUP_EXCLUDE: 'photos/2019', NKVM_HELPER_IMAGE: 'debian:12-slim' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const archive = /(\/\S+archive-2019-\S+\.tar\.gz)$/m.exec(r.stdout)![1];
    execFileSync('gzip', ['-t', archive]);
    const entries = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    assert.deepEqual(entries, ['./', './notes.txt', './photos/']);
    assert.equal(execFileSync('sha256sum', [archive], { encoding: 'utf8' }).split(' ')[0], /sha256 ([0-9a-f]{64})/.exec(r.stdout)![1]);
  });

  it('NKVM_COMPRESSION=none writes a plain .tar; a bad NKVM_COMPRESSION is refused before anything runs', async () => {
    const r = await nkvm(['backup', 'media/archive-2019'], { NKVM_COMPRESSION: 'none' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const archive = /(\/\S+archive-2019-\S+Z\.tar)$/m.exec(r.stdout)![1];
    assert.ok(execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).includes('./photos/2019/holiday/IMG_0001.raw'));
    const bad = await nkvm(['backup', 'media/archive-2019'], { NKVM_COMPRESSION: 'zstd' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /NKVM_COMPRESSION must be "pod-gzip", "local-gzip" or "none", got "zstd"/);
  });
});
