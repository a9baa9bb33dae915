import * as assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { HistoryStatus } from '../../../src/core/history/historyRecord';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { applyRetention } from '../../../src/core/retention/applyRetention';
import { planRetention } from '../../../src/core/retention/planRetention';

const NOW = new Date('2026-03-31T12:00:00.000Z');
const daysAgo = (days: number): Date => new Date(NOW.getTime() - days * 86_400_000);

describe('retention', function () {
  this.timeout(30_000);
  let root: string;
  let history: HistoryStore;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-retention-'));
    history = await HistoryStore.open(path.join(root, 'data', 'backups.db'));
  });
  afterEach(async () => {
    await history.close();
    await rm(root, { recursive: true, force: true });
  });

  async function backup(pvc: string, age: number, status: HistoryStatus = 'success', namespace = 'shop'): Promise<number> {
    const archive = path.join(root, `${namespace}-${pvc}-${age}.tar.gz`);
    await writeFile(archive, `archive of ${pvc} ${age} days ago`);
    return history.append({ context: 'prod', namespace, pvcName: pvc, status, createdAt: daysAgo(age), backupPath: archive });
  }

  async function prunedIds(policy: { keepLast: number; maxAgeDays: number }): Promise<number[]> {
    return planRetention(await history.archivedBackups(), policy, NOW).prune.map((r) => r.id).sort((a, b) => a - b);
  }

  it('prunes nothing with both limits at 0', async () => {
    await backup('orders', 400);
    await backup('orders', 1);
    assert.deepEqual(await prunedIds({ keepLast: 0, maxAgeDays: 0 }), []);
  });

  it('keeps the newest N successful backups per volume, counting volumes separately', async () => {
    const o1 = await backup('orders', 5);
    const o2 = await backup('orders', 4);
    await backup('orders', 3);
    await backup('orders', 2);
    await backup('media', 9);
    await backup('media', 8);
    await backup('orders', 9, 'success', 'other-namespace');
    assert.deepEqual(await prunedIds({ keepLast: 2, maxAgeDays: 0 }), [o1, o2]);
  });

  it('does not count partial backups towards keepLast, so good copies are not pushed out by broken ones', async () => {
    const good1 = await backup('orders', 10);
    await backup('orders', 9);
    await backup('orders', 2, 'partial');
    await backup('orders', 1, 'partial');
    assert.deepEqual(await prunedIds({ keepLast: 2, maxAgeDays: 0 }), []);
    await backup('orders', 0.5);
    assert.deepEqual(await prunedIds({ keepLast: 2, maxAgeDays: 0 }), [good1]);
  });

  it('prunes by age but never the newest successful backup of a volume', async () => {
    const old = await backup('orders', 60);
    const newestGood = await backup('orders', 45);
    const oldPartial = await backup('orders', 40, 'partial');
    await backup('media', 3);
    const plan = planRetention(await history.archivedBackups(), { keepLast: 0, maxAgeDays: 30 }, NOW);
    assert.deepEqual(plan.prune.map((r) => r.id).sort(), [old, oldPartial].sort());
    assert.equal(plan.decisions.find((d) => d.record.id === newestGood)!.reason, 'newest successful backup of the volume');
  });

  it('deletes the archives, keeps the rows marked pruned, and plans nothing more next time', async () => {
    const old = await backup('orders', 60);
    await backup('orders', 1);
    const plan = planRetention(await history.archivedBackups(), { keepLast: 1, maxAgeDays: 0 }, NOW);
    const result = await applyRetention(history, plan, { now: () => NOW });
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.pruned.map((p) => p.id), [old]);
    assert.ok(result.pruned[0]!.freedBytes > 0);
    assert.deepEqual(await readdir(root).then((names) => names.filter((n) => n.endsWith('.tar.gz'))), ['shop-orders-1.tar.gz']);
    const row = (await history.get(old))!;
    assert.equal(row.prunedAt, NOW.toISOString());
    assert.equal(await history.count(), 2);
    assert.deepEqual(await prunedIds({ keepLast: 1, maxAgeDays: 0 }), []);
  });

  it('marks a row pruned when its archive was already deleted by hand', async () => {
    const old = await backup('orders', 60);
    await backup('orders', 1);
    await rm((await history.get(old))!.backupPath!);
    const plan = planRetention(await history.archivedBackups(), { keepLast: 1, maxAgeDays: 0 }, NOW);
    const result = await applyRetention(history, plan);
    assert.deepEqual(result.pruned, [{ id: old, archivePath: (await history.get(old))!.backupPath!, freedBytes: 0 }]);
    assert.ok((await history.get(old))!.prunedAt);
  });
});
