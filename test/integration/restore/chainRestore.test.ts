import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { digestArchiveFile } from '../../../src/core/archive/archiveDigests';
import { recordBackupDigests } from '../../../src/core/archive/archiveDigestsHistory';
import { archiveCommand } from '../../../src/core/backup/archiveCommand';
import { DATA_MOUNT, HELPER_CONTAINER } from '../../../src/core/backup/helperPodSpec';
import { runRestoreDrill } from '../../../src/core/drill/restoreDrill';
import type { HistoryRecord } from '../../../src/core/history/historyRecord';
import { HistoryStore } from '../../../src/core/history/historyStore';
import type { ArchiveRef } from '../../../src/core/incremental/incrementalManifest';
import { planIncrement } from '../../../src/core/incremental/incrementalPlan';
import { listVolumeInPod } from '../../../src/core/incremental/listVolumeInPod';
import { endOfArchiveMember, manifestMember } from '../../../src/core/incremental/manifestMember';
import type { PodListing } from '../../../src/core/incremental/podListing';
import { selectionCommand, selectionInput } from '../../../src/core/incremental/selectionCommand';
import { execInPod } from '../../../src/core/kube/podExec';
import { runRestore } from '../../../src/core/restore/restoreRun';
import type { RestoreRequest, RestoreResult, RestoreSettings } from '../../../src/core/restore/restoreVolume';
import { listLocally } from '../../unit/incremental/localChain';
import { runNkvm, sandboxEnv } from '../cli/runNkvm';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { eventually, startSandbox, type SandboxFixture } from '../sandboxFixture';
import { boundClaim, leftoverHelpers } from './restoreFixture';

const NS = 'media';
const SOURCE = 'chain-src';

interface Point {
  readonly ref: ArchiveRef;
  readonly path: string;
  readonly listing: PodListing;
  /** The source volume at this backup: what a restore of it must give. */
  readonly tree: string[];
  /** What an incremental archive holds besides its manifest. */
  readonly sent?: readonly string[];
}

/** Each entry as name|type|mode|link target|content (the root folder left out), sorted. */
function treeOf(dir: string, under?: readonly string[]): string[] {
  const at = (name: string) => Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name, 'latin1')]);
  return listLocally(dir, 'gnu')
    .entries.filter((e) => e.name !== '.' && (!under || under.some((p) => e.name === p || e.name.startsWith(`${p}/`))))
    .map((e) => [e.name, e.type, e.mode, e.linkname ?? '', e.type === 'file' ? readFileSync(at(e.name)).toString('latin1') : ''].join('|'))
    .sort();
}

describe(`restoring an incremental backup through its chain (${TEST_HELPER_IMAGE})`, function () {
  this.timeout(240_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let root: string;
  const pod = 'chain-reader';
  const settings: RestoreSettings = { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };
  const points: Point[] = [];
  let history: HistoryStore;
  let rows: HistoryRecord[];

  async function run(command: string[], input?: Buffer): Promise<Buffer> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const stdin = input ? new PassThrough().end(input) : undefined;
    const stdout = new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) });
    const stderr = (c: Buffer) => void err.push(c);
    const code = await execInPod(sb.kubeConfig, { namespace: NS, pod, container: HELPER_CONTAINER, command, stdout, stderr, ...(stdin ? { stdin } : {}) });
    assert.equal(code, 0, Buffer.concat(err).toString());
    return Buffer.concat(out);
  }
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  /** A backup of the source as the helper makes one: full (archiveCommand) or the changes since the last point. */
  async function backUp(id: number): Promise<Point> {
    await new Promise((r) => setTimeout(r, 50));
    const listing = await listVolumeInPod(sb.kubeConfig, { namespace: NS, pod, image: TEST_HELPER_IMAGE });
    const path = join(sb.dir, 'archives', `${id}.tar.gz`);
    if (!points.length) {
      writeFileSync(path, await run(archiveCommand()));
    } else {
      const plan = planIncrement({ chain: points.map((p) => p.ref), listing: points.at(-1)!.listing }, listing);
      const body = plan.selection.names.length ? await run(selectionCommand('pod-gzip'), selectionInput(plan.selection.names)) : endOfArchiveMember();
      writeFileSync(path, Buffer.concat([manifestMember(plan.manifest), body]));
      return { ref: { id, sha256: sha(path) }, path, listing, tree: treeOf(root), sent: [...plan.selection.names].sort() };
    }
    return { ref: { id, sha256: sha(path) }, path, listing, tree: treeOf(root) };
  }

  /** The chain's rows in a history of their own (ids 1, 2, 3, as the manifests name them). */
  async function historyOf(name: string, change: (n: number) => Partial<HistoryRecord> = () => ({})): Promise<HistoryStore> {
    const store = await HistoryStore.open(join(sb.dir, `${name}.db`));
    for (const [i, p] of points.entries()) {
      const id = await store.append({
        operation: 'backup', context: 'sandbox', namespace: NS, pvcName: SOURCE, status: 'success',
        checksum: p.ref.sha256, sizeBytes: readFileSync(p.path).length, backupPath: p.path,
        ...(i ? { kind: 'incremental' as const, baseId: i } : {}), ...change(i + 1),
      });
      assert.equal(id, p.ref.id);
    }
    return store;
  }

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    root = await boundClaim(sb, NS, SOURCE);
    mkdirSync(join(sb.dir, 'archives'));
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: pod },
        spec: {
          containers: [{ name: HELPER_CONTAINER, image: TEST_HELPER_IMAGE, command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: DATA_MOUNT, readOnly: true }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: SOURCE } }],
        },
      },
    });
    await eventually('reader Running', async () => (await core.readNamespacedPod({ name: pod, namespace: NS })).status?.phase === 'Running', 20_000);

    // The helper's default user owns the data, as on a volume a workload writes. Only what is written is
    // handed over: chown stamps a new ctime, which would make an unchanged file look changed.
    const own = (...names: string[]) => execFileSync('chown', ['-h', '65534:65534', ...names.map((n) => join(root, n))]);
    const put = (name: string, text: string) => (writeFileSync(join(root, name), text), own(name));
    const folder = (name: string) => (mkdirSync(join(root, name)), own(name));
    const link = (target: string, name: string) => (symlinkSync(target, join(root, name)), own(name));
    own('.');
    folder('docs');
    put('docs/a.txt', 'first');
    put('docs/same.txt', 'same');
    put('gone.txt', 'deleted by the second backup');
    put('becomes-dir', 'a file, then a folder');
    folder('becomes-file');
    put('becomes-file/inside', 'gone with its folder');
    put('mode.sh', '#!/bin/sh\n');
    chmodSync(join(root, 'mode.sh'), 0o644);
    link('docs/a.txt', 'link');
    folder('tree');
    folder('tree/deep');
    put('tree/deep/f', 'f');
    points.push(await backUp(1));

    put('docs/a.txt', 'second, longer');
    unlinkSync(join(root, 'gone.txt'));
    put('new.txt', 'added by the second backup');
    unlinkSync(join(root, 'becomes-dir'));
    folder('becomes-dir');
    put('becomes-dir/child', 'c');
    chmodSync(join(root, 'mode.sh'), 0o755);
    unlinkSync(join(root, 'link'));
    link('docs/same.txt', 'link');
    rmSync(join(root, 'tree'), { recursive: true });
    points.push(await backUp(2));

    rmSync(join(root, 'becomes-file'), { recursive: true });
    put('becomes-file', 'now a file');
    put('docs/b.txt', 'added by the third backup');
    unlinkSync(join(root, 'docs', 'same.txt'));
    chmodSync(join(root, 'docs'), 0o750);
    points.push(await backUp(3));
    // Each incremental archive holds only what changed: the rest must come from the archives before it.
    assert.deepEqual(points[2]!.sent, ['.', 'becomes-file', 'docs', 'docs/b.txt']);

    history = await historyOf('history');
    rows = (await Promise.all([1, 2, 3].map((id) => history.get(id)))) as HistoryRecord[];
  });
  afterEach(async () => assert.deepEqual(await leftoverHelpers(core), [], 'no helper pod is left behind'));
  after(async () => {
    await history?.close();
    await core?.deleteNamespacedPod({ name: pod, namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined);
    await sb?.stop();
  });

  const restore = (backup: HistoryRecord, pvc: string, extra: Partial<RestoreRequest> = {}, store = history): Promise<RestoreResult> => {
    const request = { archivePath: backup.backupPath!, expectedSha256: backup.checksum ?? undefined, target: { context: 'sandbox', namespace: NS, pvc } };
    return runRestore(sb.kubeConfig, { ...request, ...extra }, { settings, history: store, backup });
  };
  const claimExists = async (name: string) => (await core.listNamespacedPersistentVolumeClaim({ namespace: NS })).items.some((c) => c.metadata?.name === name);

  it('restores each point of the chain into a new claim as the volume was then: changes, deletions, type, mode and link changes', async () => {
    for (const [i, point] of points.entries()) {
      const result = await restore(rows[i]!, `point-${i + 1}`, { createClaim: {} });
      assert.equal(result.status, 'success', `${result.message} / ${result.nextStep}`);
      assert.equal(result.chainArchives, i ? i + 1 : undefined);
      assert.equal(result.checksum, point.ref.sha256, 'the restore names the backup restored');
      assert.deepEqual(treeOf(sb.cluster.volumePath(NS, `point-${i + 1}`)), point.tree, `the volume at backup ${i + 1}`);
    }
    const [latest] = await history.latest({ operation: 'restore' });
    assert.equal(latest!.status, 'success');
    assert.equal(latest!.backupPath, points[2]!.path);
  });

  it('restores selected paths from the newest point, and only those', async () => {
    const paths = ['docs', 'becomes-dir'];
    const result = await restore(rows[2]!, 'selected', { createClaim: {}, paths });
    assert.equal(result.status, 'success', `${result.message} / ${result.nextStep}`);
    assert.deepEqual(treeOf(sb.cluster.volumePath(NS, 'selected')), treeOf(root, paths));
    assert.ok(treeOf(root, paths).some((l) => l.startsWith('docs/b.txt|')));
  });

  it('with emptyFirst, an existing claim ends as the newest point: what the chain deleted is gone', async () => {
    const full = await restore(rows[0]!, 'existing', { createClaim: {} });
    assert.equal(full.status, 'success', full.message);
    const claim = sb.cluster.volumePath(NS, 'existing');
    assert.ok(treeOf(claim).some((l) => l.startsWith('gone.txt|')));
    const result = await restore(rows[2]!, 'existing', { emptyFirst: true });
    assert.equal(result.status, 'success', `${result.message} / ${result.nextStep}`);
    assert.deepEqual(treeOf(claim), points[2]!.tree);
  });

  it('stops at create, naming the backup, when a middle archive is missing or does not match its checksum; no claim is left', async () => {
    const moved = join(sb.dir, 'moved');
    mkdirSync(moved);
    const copies = points.map((p) => join(moved, `${p.ref.id}.tar.gz`));
    points.forEach((p, i) => copyFileSync(p.path, copies[i]!));
    unlinkSync(copies[1]!);
    const missing = await historyOf('missing', (n) => ({ backupPath: copies[n - 1]! }));
    const wrong = await historyOf('wrong-checksum', (n) => (n === 2 ? { checksum: 'f'.repeat(64) } : {}));
    try {
      const cases = [
        { store: missing, claim: 'after-missing', cause: /backup 2 \(.*2\.tar\.gz\) is missing/ },
        { store: wrong, claim: 'after-wrong', cause: /backup 2 \(.*2\.tar\.gz\) does not match the checksum recorded/ },
      ];
      for (const c of cases) {
        const result = await restore((await c.store.get(3))!, c.claim, { createClaim: {} }, c.store);
        assert.equal(result.status, 'failed');
        assert.equal(result.stage, 'create');
        assert.match(result.message, c.cause);
        assert.match(result.nextStep ?? '', /full backup|chain is whole/);
        assert.equal(result.claimCreated, false);
        assert.equal(await claimExists(c.claim), false, 'no claim is left behind');
      }
    } finally {
      await missing.close();
      await wrong.close();
    }
  });

  it('stops at upload, naming the backup, when an archive is replaced after the chain was opened and counted', async () => {
    const replaced = join(sb.dir, 'replaced');
    mkdirSync(replaced);
    const copies = points.map((p) => join(replaced, `${p.ref.id}.tar.gz`));
    points.forEach((p, i) => copyFileSync(p.path, copies[i]!));
    const store = await historyOf('replaced', (n) => ({ backupPath: copies[n - 1]! }));
    let swapped = false;
    // The same tar compressed again: every entry as counted, so only the archive's checksum tells.
    const swap = (): void => {
      swapped = true;
      writeFileSync(copies[1]!, gzipSync(gunzipSync(readFileSync(copies[1]!)), { level: 1 }));
    };
    try {
      const backup = (await store.get(3))!;
      const target = { context: 'sandbox', namespace: NS, pvc: 'after-replaced' };
      const request = { archivePath: backup.backupPath!, expectedSha256: backup.checksum ?? undefined, target };
      const onProgress = (p: { stage: string }): void => void (p.stage === 'upload' && !swapped && swap());
      const result = await runRestore(sb.kubeConfig, { ...request, createClaim: {} }, { settings, history: store, backup, onProgress });
      assert.ok(swapped);
      assert.equal(result.status, 'failed', result.message);
      assert.equal(result.stage, 'upload');
      assert.match(result.message, /chain could not be sent .*backup 2 \(.*replaced\/2\.tar\.gz\) changed while the chain was read/);
      assert.match(result.nextStep ?? '', /emptyFirst/);
    } finally {
      await store.close();
    }
  });

  it('stops at create, naming the base, when retention pruned a base of the chain', async () => {
    const pruned = await historyOf('pruned', (n) => (n === 1 ? { prunedAt: new Date().toISOString() } : {}));
    try {
      const result = await restore((await pruned.get(3))!, 'after-pruned', { createClaim: {} }, pruned);
      assert.equal(result.status, 'failed');
      assert.equal(result.stage, 'create');
      assert.match(result.message, /Backup #1, the base of #2, was deleted by retention/);
      assert.equal(await claimExists('after-pruned'), false);
      const [row] = await pruned.latest({ operation: 'restore' });
      assert.equal(row!.status, 'failed', 'the refused restore is in the history');
    } finally {
      await pruned.close();
    }
  });

  it('a drill of an incremental backup restores its chain and matches the listing recorded for that backup', async () => {
    // The volume at backup 3 as a full archive of it lists it: what the backup records for a drill.
    const whole = join(sb.dir, 'whole-3.tar.gz');
    writeFileSync(whole, await run(archiveCommand()));
    await recordBackupDigests(history, 3, await digestArchiveFile(whole));
    const request = { archivePath: rows[2]!.backupPath!, backup: rows[2]!, context: 'sandbox', namespace: NS };
    const result = await runRestoreDrill(sb.kubeConfig, request, { settings, history });
    assert.equal(result.outcome, 'ok', `${result.message} / ${result.nextStep}`);
    assert.equal(result.reference, 'backup');
    assert.ok(result.comparison!.compared >= points[2]!.tree.length, result.message);
    assert.equal((await history.get(3))!.drillOutcome, 'ok');
  });

  it('nkvm restore <id> restores an incremental backup through its chain', async () => {
    const env = sandboxEnv(sb);
    mkdirSync(join(env.NKVM_METADATA_DB_PATH!, '..'), { recursive: true });
    copyFileSync(join(sb.dir, 'history.db'), env.NKVM_METADATA_DB_PATH!);
    const args = ['restore', '3', '--to', `${NS}/from-cli`, '--new-claim', '--size', '1Gi'];
    const cli = await runNkvm(args, { cwd: sb.dir, env: { ...env, NKVM_HELPER_IMAGE: TEST_HELPER_IMAGE } });
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /through its chain of 3 archives/);
    assert.deepEqual(treeOf(sb.cluster.volumePath(NS, 'from-cli')), points[2]!.tree);
  });
});
