import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { archiveCommand } from '../../../src/core/backup/archiveCommand';
import { StageError } from '../../../src/core/backup/backupStage';
import { DATA_MOUNT, HELPER_CONTAINER } from '../../../src/core/backup/helperPodSpec';
import { readChainArchive } from '../../../src/core/incremental/chainArchive';
import { resolveChainTree } from '../../../src/core/incremental/chainTree';
import { MANIFEST_MEMBER, pathBytes, type ArchiveRef } from '../../../src/core/incremental/incrementalManifest';
import { planIncrement, type IncrementalPlan } from '../../../src/core/incremental/incrementalPlan';
import { listVolumeInPod } from '../../../src/core/incremental/listVolumeInPod';
import { endOfArchiveMember, manifestMember, readManifest } from '../../../src/core/incremental/manifestMember';
import type { PodListing } from '../../../src/core/incremental/podListing';
import { selectionCommand, selectionInput } from '../../../src/core/incremental/selectionCommand';
import { execInPod } from '../../../src/core/kube/podExec';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { boundClaim } from '../restore/restoreFixture';
import { eventually, startSandbox, type SandboxFixture } from '../sandboxFixture';
import { runTar, type Userland } from '../../unit/incremental/localHelper';
import { listLocally } from '../../unit/incremental/localChain';

const NS = 'media';
const at = (root: string, name: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name, 'latin1')]);
const pause = () => new Promise((r) => setTimeout(r, 50));

interface Backup {
  readonly ref: ArchiveRef;
  readonly path: string;
  readonly listing: PodListing;
  readonly plan?: IncrementalPlan;
}

describe(`incremental backups through a helper pod (${TEST_HELPER_IMAGE})`, function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let root: string;
  const pod = 'incremental-helper';

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    root = await boundClaim(sb, NS, 'inc-src');
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: pod },
        spec: {
          containers: [{ name: HELPER_CONTAINER, image: TEST_HELPER_IMAGE, command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: DATA_MOUNT, readOnly: true }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'inc-src' } }],
        },
      },
    });
    await eventually('helper Running', async () => (await core.readNamespacedPod({ name: pod, namespace: NS })).status?.phase === 'Running', 20_000);
  });
  after(async () => {
    await core?.deleteNamespacedPod({ name: pod, namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined);
    await sb?.stop();
  });

  /** Runs a helper command, its stdout into a buffer; fails on a non-zero exit with its stderr. */
  async function run(command: string[], input?: Buffer): Promise<Buffer> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const stdin = input ? new PassThrough().end(input) : undefined;
    const code = await execInPod(sb.kubeConfig, {
      namespace: NS,
      pod,
      container: HELPER_CONTAINER,
      command,
      stdout: new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }),
      stderr: (c) => void err.push(c),
      ...(stdin ? { stdin } : {}),
    });
    assert.equal(code, 0, Buffer.concat(err).toString());
    return Buffer.concat(out);
  }

  const list = () => listVolumeInPod(sb.kubeConfig, { namespace: NS, pod, image: TEST_HELPER_IMAGE });
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  async function full(id: number): Promise<Backup> {
    const listing = await list();
    const path = join(sb.dir, `${id}.tar.gz`);
    writeFileSync(path, await run(archiveCommand()));
    return { ref: { id, sha256: sha(path) }, path, listing };
  }

  async function incremental(id: number, chain: readonly Backup[]): Promise<Backup> {
    const listing = await list();
    const plan = planIncrement({ chain: chain.map((b) => b.ref), listing: chain[chain.length - 1]!.listing }, listing);
    const body = plan.selection.names.length ? await run(selectionCommand('pod-gzip'), selectionInput(plan.selection.names)) : endOfArchiveMember();
    const path = join(sb.dir, `${id}.tar.gz`);
    writeFileSync(path, Buffer.concat([manifestMember(plan.manifest), body]));
    return { ref: { id, sha256: sha(path) }, path, listing, plan };
  }

  it('sends only what changed, names of any bytes included, and a chain restores by hand to the volume', async () => {
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'a.txt'), 'first');
    writeFileSync(join(root, 'docs', 'same.txt'), 'same');
    writeFileSync(at(root, 'new\nline'), 'n');
    writeFileSync(at(root, 'latin\xe9'), 'l');
    writeFileSync(join(root, 'mode.sh'), 'x');
    mkdirSync(join(root, 'tree', 'deep'), { recursive: true });
    writeFileSync(join(root, 'tree', 'deep', 'f'), 'f');
    await pause();
    const chain: Backup[] = [await full(1)];
    assert.ok(chain[0]!.listing.entries.some((e) => e.name === 'new\nline'), 'the listing carries a newline in a name');

    writeFileSync(join(root, 'docs', 'a.txt'), 'second, longer');
    writeFileSync(at(root, 'new\nline'), 'changed');
    chmodSync(join(root, 'mode.sh'), 0o700);
    symlinkSync('docs/same.txt', join(root, 'link'));
    rmSync(join(root, 'tree'), { recursive: true });
    await pause();
    chain.push(await incremental(2, chain));
    assert.deepEqual([...chain[1]!.plan!.selection.names].sort(), ['.', 'docs/a.txt', 'link', 'mode.sh', 'new\nline']);
    assert.deepEqual(chain[1]!.plan!.manifest.deleted, ['tree']);

    unlinkSync(at(root, 'latin\xe9'));
    writeFileSync(at(root, Buffer.from('docs/ünï\ncødé', 'utf8').toString('latin1')), 'u');
    await pause();
    chain.push(await incremental(3, chain));
    const third = await readManifest(chain[2]!.path);
    assert.deepEqual(third?.chain.map((r) => r.id), [1, 2]);
    assert.deepEqual(third?.deleted.map(pathBytes), ['latin\xe9']);
    assert.equal(third?.counts.unchanged, chain[2]!.plan!.changes.unchanged);

    for (const tar of ['busybox', 'gnu'] as Userland[]) {
      const dest = join(sb.dir, `restored-${tar}`);
      mkdirSync(dest);
      for (const b of chain) {
        for (const p of (await readManifest(b.path))?.deleted ?? []) rmSync(at(dest, pathBytes(p)), { recursive: true, force: true });
        const x = runTar(tar, ['xzf', b.path, '-C', dest, `--exclude=${MANIFEST_MEMBER}`], dest);
        assert.equal(x.status, 0, x.stderr);
      }
      const shape = (dir: string) =>
        listLocally(dir, 'gnu')
          .entries.filter((e) => e.name !== '.')
          .map((e) => [e.name, e.type, e.mode, e.linkname ?? '', e.type === 'file' ? readFileSync(at(dir, e.name)).toString('latin1') : ''].join('|'))
          .sort();
      assert.deepEqual(shape(dest), shape(root), `restored by hand with ${tar} tar`);
    }
    const tree = resolveChainTree(await Promise.all(chain.map((b) => readChainArchive(b.path, b.ref.id))));
    assert.equal(tree.sources.get('docs/same.txt'), 0);
    assert.equal(tree.sources.get('new\nline'), 1);
    assert.equal(tree.sources.get(Buffer.from('docs/ünï\ncødé', 'utf8').toString('latin1')), 2);
    assert.ok(tree.deleted.has('tree/deep/f') && tree.deleted.has('latin\xe9'));
  });

  it('fails the listing, rather than take an unreadable folder for deleted, when the helper runs as another user', async () => {
    // A claim of its own: the shared one is mounted by the root helper already.
    const own = await boundClaim(sb, NS, 'inc-private');
    mkdirSync(join(own, 'private'));
    writeFileSync(join(own, 'private', 'secret'), 's');
    chmodSync(join(own, 'private'), 0o700);
    chmodSync(own, 0o755);
    const other = 'incremental-nonroot';
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: other },
        spec: {
          securityContext: { runAsUser: 65534, runAsGroup: 65534 },
          containers: [{ name: HELPER_CONTAINER, image: TEST_HELPER_IMAGE, command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: DATA_MOUNT, readOnly: true }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'inc-private' } }],
        },
      },
    });
    try {
      await eventually('non-root helper Running', async () => (await core.readNamespacedPod({ name: other, namespace: NS })).status?.phase === 'Running', 20_000);
      const failure = await listVolumeInPod(sb.kubeConfig, { namespace: NS, pod: other, image: TEST_HELPER_IMAGE }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(failure instanceof StageError, String(failure));
      assert.match(failure.message, /exit code 3.*private/);
      assert.match(failure.nextStep, /full backup|runAsRoot/);
    } finally {
      await core.deleteNamespacedPod({ name: other, namespace: NS, gracePeriodSeconds: 0 });
    }
  });

  it('fails the listing with the stage and a next step when an include path matches nothing', async () => {
    const failure = await listVolumeInPod(sb.kubeConfig, { namespace: NS, pod, image: TEST_HELPER_IMAGE, selection: { include: ['missing'], exclude: [] } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(failure instanceof StageError);
    assert.equal(failure.stage, 'exec');
    assert.match(failure.message, /nothing in the volume matches the include path missing/);
    assert.ok(failure.nextStep.length > 0);
  });
});
