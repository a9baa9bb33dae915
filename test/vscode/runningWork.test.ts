import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RunReport } from '../../src/core/backup/runReport';
import { types } from '../sandbox/cluster/types';
import { ConnectedSandbox, connectSandbox, EXTENSION_ID } from './sandboxForTests';

const archive2019 = { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' };

describe('Running backups and restores: one at a time, stopped on deactivation', function () {
  this.timeout(90_000);
  let sb: ConnectedSandbox;

  before(async () => (sb = await connectSandbox()));
  after(async () => sb?.stop());

  const helperPods = () => sb.cluster.store.list(types.pods).filter((p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'backup-helper' && !p.metadata.deletionTimestamp);
  const filesUnder = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name) : []);

  it('starts a backup batch only once when it is asked for twice in a row', async () => {
    const first = sb.api.backups.run([archive2019]);
    const second = sb.api.backups.run([archive2019]);
    assert.equal(await second, undefined, 'the second request must not start a batch');
    const report = (await first) as RunReport;
    assert.equal(report.rows[0].state, 'success', report.rows[0].message);
    assert.equal(sb.api.backups.isRunning, false);
  });

  it('starts a restore only once when it is asked for twice in a row', async () => {
    const history = await sb.api.history.open();
    const [backup] = await history.forPvc('sandbox', 'media', 'archive-2019', 1);
    // As root, so that the files the backup just read can be overwritten whoever owns them.
    const request = { archivePath: backup.backupPath!, expectedSha256: backup.checksum ?? undefined, target: archive2019, runAsRoot: true };
    const first = sb.api.restores.run(request, 'the latest backup');
    const second = sb.api.restores.run(request, 'the latest backup');
    assert.equal(await second, undefined, 'the second request must not start a restore');
    const result = await first;
    assert.equal(result?.status, 'success', result?.message);
    assert.equal(sb.api.restores.isRunning, false);
  });

  it('deactivate cancels a running backup and resolves once its helper pod is deleted, leaving no partial archive', async () => {
    const root = sb.cluster.volumePath('media', 'archive-2019');
    execFileSync('sh', ['-c', `head -c 60000000 /dev/urandom > '${root}/big.bin'`]);
    try {
      const copying = new Promise<void>((resolve) => {
        const listener = sb.api.backups.onDidChangeRun((r) => {
          if (r.rows.some((row) => row.state === 'running' && row.bytes > 0)) {
            listener.dispose();
            resolve();
          }
        });
      });
      const run = sb.api.backups.run([archive2019]);
      await copying;
      assert.equal(helperPods().length, 1);
      // The module VS Code loaded, so that deactivate sees the controllers activate() built.
      const extensionPath = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
      const main = join(extensionPath, 'dist', 'extension.js');
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module instance VS Code loaded
      const loaded = require(main) as { deactivate(): Promise<void> | undefined };
      await loaded.deactivate();
      assert.deepEqual(helperPods().map((p) => p.metadata.name), [], 'the helper pod is deleted when deactivate resolves');
      const report = (await run) as RunReport;
      assert.equal(report.rows[0].state, 'cancelled');
      assert.deepEqual(filesUnder(join(sb.dir, 'backups')).filter((f) => f.endsWith('.partial')), []);
    } finally {
      execFileSync('rm', ['-f', `${root}/big.bin`]);
    }
  });
});
