import { contentTree as tree } from '../treeListing';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBackups } from '../../../src/core/backup/backupRun';
import type { HistoryRecord } from '../../../src/core/history/historyRecord';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { runRestore } from '../../../src/core/restore/restoreRun';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { boundClaim } from '../restore/restoreFixture';
import { startSandbox, type SandboxFixture } from '../sandboxFixture';

const NS = 'media';
const settle = () => new Promise((r) => setTimeout(r, 1100));

describe(`incremental backups round trip: each point of a chain of four restores as the volume was (${TEST_HELPER_IMAGE})`, function () {
  this.timeout(300_000);
  let sb: SandboxFixture;
  let history: HistoryStore;

  before(async () => {
    sb = await startSandbox();
    history = await HistoryStore.open(join(sb.dir, 'history.db'));
  });
  after(async () => {
    await history?.close();
    await sb?.stop();
  });

  async function backup(): Promise<HistoryRecord> {
    const run = await runBackups([{ context: 'sandbox', namespace: NS, pvc: 'trip' }], {
      kubeConfigFor: () => sb.kubeConfig,
      settings: { backupDir: join(sb.dir, 'backups'), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 },
      concurrency: 1,
      history,
    });
    assert.equal(run.results[0]!.status, 'success', run.results[0]!.message);
    return (await history.byRun(run.runId))[0]!;
  }

  it('changes, deletions, renames, type, mode and link changes, and a rewrite in the second of the base all come back', async () => {
    const root = await boundClaim(sb, NS, 'trip');
    mkdirSync(join(root, 'docs', 'old'), { recursive: true });
    writeFileSync(join(root, 'docs', 'a.txt'), 'first version');
    writeFileSync(join(root, 'docs', 'old', 'keep.txt'), 'kept through the chain');
    writeFileSync(join(root, 'to-rename.txt'), 'renamed later');
    writeFileSync(join(root, 'run.sh'), '#!/bin/sh\n');
    mkdirSync(join(root, 'will-be-file'));
    writeFileSync(join(root, 'will-be-file', 'inner'), 'inner');
    writeFileSync(join(root, 'will-be-dir'), 'a file first');
    symlinkSync('docs/a.txt', join(root, 'link'));
    await settle();
    const points: { row: HistoryRecord; shape: string[] }[] = [];
    const take = async () => points.push({ row: await backup(), shape: tree(root) });
    await take();
    // Within the second of that backup: same size, and the mtime may not move on a coarse clock.
    writeFileSync(join(root, 'docs', 'a.txt'), 'FIRST VERSION');

    await settle();
    renameSync(join(root, 'to-rename.txt'), join(root, 'docs', 'renamed.txt'));
    chmodSync(join(root, 'run.sh'), 0o755);
    rmSync(join(root, 'will-be-file'), { recursive: true });
    writeFileSync(join(root, 'will-be-file'), 'now a file');
    unlinkSync(join(root, 'will-be-dir'));
    mkdirSync(join(root, 'will-be-dir'));
    writeFileSync(join(root, 'will-be-dir', 'child'), 'child');
    await settle();
    await take();

    unlinkSync(join(root, 'link'));
    symlinkSync('docs/renamed.txt', join(root, 'link'));
    rmSync(join(root, 'docs', 'old'), { recursive: true });
    writeFileSync(join(root, 'new\nline.txt'), 'a newline in the name');
    await settle();
    await take();

    writeFileSync(join(root, 'docs', 'a.txt'), 'third version, longer');
    chmodSync(join(root, 'docs'), 0o775);
    await settle();
    await take();

    assert.deepEqual(points.map((p) => p.row.kind), ['full', 'incremental', 'incremental', 'incremental']);
    assert.notDeepEqual(points[0]!.shape, points[1]!.shape);
    for (const [i, point] of points.entries()) {
      const claim = `trip-point-${i + 1}`;
      const result = await runRestore(
        sb.kubeConfig,
        { archivePath: point.row.backupPath!, target: { context: 'sandbox', namespace: NS, pvc: claim }, createClaim: {} },
        { settings: { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 }, history, backup: point.row },
      );
      assert.equal(result.status, 'success', `point ${i + 1}: ${result.message} ${result.nextStep ?? ''}`);
      assert.deepEqual(tree(sb.cluster.volumePath(NS, claim)), point.shape, `point ${i + 1} (backup #${point.row.id}) restores as the volume was`);
    }
  });
});
