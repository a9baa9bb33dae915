import * as assert from 'node:assert/strict';
import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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

  async function backup(pvc: string, age: number, status: HistoryStatus = 'success', namespace = 'shop', baseId?: number): Promise<number> {
    const archive = path.join(root, `${namespace}-${pvc}-${age}.tar.gz`);
    await writeFile(archive, `archive of ${pvc} ${age} days ago`);
    const kind = baseId === undefined ? {} : { kind: 'incremental' as const, baseId };
    return history.append({ context: 'prod', namespace, pvcName: pvc, status, createdAt: daysAgo(age), backupPath: archive, ...kind });
  }

  /** A full backup `ages[0]` days ago, then one incremental backup on the previous for each later age. */
  async function chain(pvc: string, ...ages: number[]): Promise<number[]> {
    const ids: number[] = [];
    for (const age of ages) ids.push(await backup(pvc, age, 'success', 'shop', ids[ids.length - 1]));
    return ids;
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

  it('keeps every base a kept incremental backup restores through, whatever its age or keepLast, and says why', async () => {
    const [full, second, third] = await chain('orders', 60, 50, 40);
    await backup('media', 70);
    const plan = planRetention(await history.archivedBackups(), { keepLast: 1, maxAgeDays: 30 }, NOW);
    assert.deepEqual(plan.prune, []);
    const reasons = new Map(plan.decisions.map((d) => [d.record.id, d.reason]));
    assert.equal(reasons.get(third), 'newest successful backup of the volume');
    assert.equal(reasons.get(second), `kept: base of #${third}`);
    assert.equal(reasons.get(full), `kept: base of #${second} (needed to restore #${third})`);
  });

  it('prunes a whole chain once no kept backup needs it, and keeps the base of the newest chain', async () => {
    const old = await chain('orders', 60, 50, 40);
    const [newFull, newIncrement] = await chain('orders', 20, 1);
    const plan = planRetention(await history.archivedBackups(), { keepLast: 1, maxAgeDays: 0 }, NOW);
    assert.deepEqual(plan.prune.map((r) => r.id).sort((a, b) => a - b), old);
    assert.equal(plan.decisions.find((d) => d.record.id === newFull)!.reason, `kept: base of #${newIncrement}`);
  });

  it('does not delete a base when the backup built on it was left out of the plan, and says which backup needs it', async () => {
    const [full, increment] = await chain('orders', 60, 50);
    await backup('orders', 1);
    const plan = planRetention(await history.archivedBackups(), { keepLast: 1, maxAgeDays: 0 }, NOW);
    assert.deepEqual(plan.prune.map((r) => r.id).sort((a, b) => a - b), [full, increment]);
    // The user unticks the incremental backup in the list but leaves its base ticked.
    const result = await applyRetention(history, { ...plan, prune: plan.prune.filter((r) => r.id === full) }, { now: () => NOW });
    assert.deepEqual(result.pruned, []);
    const error = `not deleted: backup #${increment} is kept and restores through it (an incremental backup needs its whole chain)`;
    assert.deepEqual(result.failed.map((f) => [f.id, f.error]), [[full, error]]);
    await access((await history.get(full))!.backupPath!);
    assert.equal((await history.get(full))!.prunedAt, null);

    // Applied whole, the plan deletes both.
    const again = await applyRetention(history, planRetention(await history.archivedBackups(), { keepLast: 1, maxAgeDays: 0 }, NOW));
    assert.deepEqual(again.pruned.map((p) => p.id).sort((a, b) => a - b), [full, increment]);
  });

  it('does not delete a base that an incremental backup started after the plan builds on', async () => {
    const full = await backup('orders', 60);
    await backup('orders', 1);
    const plan = planRetention(await history.archivedBackups(), { keepLast: 1, maxAgeDays: 0 }, NOW);
    assert.deepEqual(plan.prune.map((r) => r.id), [full]);
    const started = { context: 'prod', namespace: 'shop', pvcName: 'orders', status: 'running', kind: 'incremental' } as const;
    const running = await history.append({ ...started, baseId: full });
    const result = await applyRetention(history, plan);
    assert.deepEqual(result.failed.map((f) => f.id), [full]);
    assert.match(result.failed[0]!.error, new RegExp(`backup #${running} is kept`));
    await access((await history.get(full))!.backupPath!);
  });
});
