import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runBackups } from '../../../src/core/backup/backupRun';
import type { BackupSettings } from '../../../src/core/backup/backupVolume';
import { applyResult, newRunReport } from '../../../src/core/backup/runReport';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

/** A GNU userland (the sandbox runs the host's GNU tools for it) and a BusyBox one. */
const IMAGES = ['debian:12-slim', 'alpine:3.20'] as const;

describe('backing up volumes with files the helper cannot read', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  let runs = 0;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // files owned by root that the helper's user cannot read
    sb = await startSandbox();
  });
  after(async () => sb?.stop());

  const settingsFor = (image: string): BackupSettings => ({ backupDir: join(sb.dir, `backups-${++runs}`), helperImage: image, helperPodTimeoutSeconds: 20 });
  const backup = async (image: string, namespace: string, pvc: string, extra: Partial<BackupSettings> = {}) => {
    const history = await HistoryStore.open(join(sb.dir, `history-${++runs}.db`));
    try {
      const run = await runBackups([{ context: 'sandbox', namespace, pvc }], { kubeConfigFor: () => sb.kubeConfig, settings: { ...settingsFor(image), ...extra }, concurrency: 1, history });
      const [row] = await history.byRun(run.runId);
      return { result: run.results[0], row };
    } finally {
      await history.close();
    }
  };

  for (const image of IMAGES) {
    it(`${image}: one root-only file makes the backup partial, not failed, and names it`, async () => {
      const secret = join(sb.cluster.volumePath('shop', 'data-orders-db-0'), 'pgdata', 'root-only.key');
      execFileSync('sh', ['-c', `echo secret > '${secret}' && chown 0:0 '${secret}' && chmod 600 '${secret}'`]);
      try {
        const { result } = await backup(image, 'shop', 'data-orders-db-0');
        assert.equal(result.status, 'partial', result.message);
        assert.match(result.message, /^Partial backup: 1 unreadable file: pgdata\/root-only\.key/);
        assert.ok(result.archivePath && existsSync(result.archivePath));
      } finally {
        execFileSync('rm', ['-f', secret]);
      }
    });
  }

  it('debian:12-slim: tar failing for another reason (an include path that matches nothing) is still a failure', async () => {
    const { result } = await backup('debian:12-slim', 'media', 'archive-2019', { backupInclude: ['no-such-folder'] });
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'exec');
  });

  for (const image of IMAGES) {
    it(`${image}: 20,000 unreadable files give a partial backup whose result, report row and history row stay small`, async () => {
      const folder = join(sb.cluster.volumePath('media', 'archive-2019'), 'locked');
      // Owned by root, mode 000: the helper runs as nobody (no pod mounts this claim).
      execFileSync('sh', ['-c', `mkdir -p '${folder}' && cd '${folder}' && seq -w 1 20000 | sed 's/$/.bin/' | xargs touch && chmod 000 ./*.bin`]);
      try {
        const { result, row } = await backup(image, 'media', 'archive-2019');
        assert.equal(result.status, 'partial', result.message);
        assert.match(result.message, /^Partial backup: 20000 unreadable files, first ones: locked\/\d{5}\.bin, /);
        assert.ok(result.warnings.length <= 41, `${result.warnings.length} stderr lines kept`);
        assert.ok(JSON.stringify(result).length < 16_000, `result of ${JSON.stringify(result).length} characters`);
        const report = newRunReport([result], 1);
        applyResult(report, result);
        assert.ok(JSON.stringify(report).length < 16_000, `report of ${JSON.stringify(report).length} characters`);
        assert.equal(row.status, 'partial');
        assert.equal(row.message, result.message);
        assert.ok(JSON.stringify(row).length < 4_000, `history row of ${JSON.stringify(row).length} characters`);
      } finally {
        execFileSync('rm', ['-rf', folder]);
      }
    });
  }
});
