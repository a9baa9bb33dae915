import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { backupVolume } from '../../../src/core/backup/backupVolume';
import { restoreVolume } from '../../../src/core/restore/restoreVolume';
import { deletePodsNow, readerPod } from '../podHelpers';
import { boundClaim, leftoverHelpers } from '../restore/restoreFixture';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';
import { buildCorpus, describeTree, hardLinkGroups, keyOf, LATIN1_NAME, MODE_000_FILE, RESUME_FILE, TreeEntry } from './fileCorpus';

/** BusyBox userlands (alpine, busybox) and GNU ones (Debian, Ubuntu, UBI), as the sandbox gives them. */
const BUSYBOX_IMAGES = ['alpine', 'busybox:stable'];
const IMAGES = [...BUSYBOX_IMAGES, 'debian:12-slim', 'ubuntu:24.04', 'registry.access.redhat.com/ubi9/ubi'];

interface HelperCase {
  name: string;
  runAsRoot: boolean;
  /** Who owns the volume's files. */
  owner: { uid: number; gid: number };
  /** The pod that mounts the claim, whose user the backup helper takes. */
  consumer?: { runAsUser: number; runAsGroup: number; fsGroup: number };
}

const HELPERS: HelperCase[] = [
  { name: 'root', runAsRoot: true, owner: { uid: 1000, gid: 1000 } },
  { name: 'nobody (65534)', runAsRoot: false, owner: { uid: 65534, gid: 65534 } },
  { name: 'the workload user 1000 with fsGroup 1000', runAsRoot: false, owner: { uid: 1000, gid: 1000 }, consumer: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 } },
];

describe('backup and restore of unusual names and file kinds with every helper image userland', function () {
  this.timeout(120_000);
  if (process.getuid?.() !== 0) return; // owners, setuid bits, mknod and other users' files need root on this machine

  for (const image of IMAGES) {
    describe(image, () => {
      let sb: SandboxFixture;
      let core: CoreV1Api;
      let claims = 0;
      before(async () => {
        sb = await startSandbox();
        core = sb.kubeConfig.makeApiClient(CoreV1Api);
      });
      after(async () => sb?.stop());

      for (const helper of HELPERS) {
        it(`helper as ${helper.name}: the restored new claim equals the source, except what is reported`, async () => {
          const n = ++claims;
          const source = await boundClaim(sb, 'media', `corpus-${n}`);
          const corpus = await buildCorpus(source, helper.owner);
          try {
            if (helper.consumer) {
              await core.createNamespacedPod({ namespace: 'media', body: readerPod(`consumer-${n}`, 'media', `corpus-${n}`, { securityContext: helper.consumer }) });
              await eventually('the consumer to run', async () => (await core.readNamespacedPod({ name: `consumer-${n}`, namespace: 'media' })).status?.phase === 'Running', 20_000);
            }
            const settings = { backupDir: join(sb.dir, 'backups'), helperImage: image, helperPodTimeoutSeconds: 20 };
            const backup = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: `corpus-${n}` }, settings, `matrix-${n}`, { runAsRoot: helper.runAsRoot });
            await deletePodsNow(core, 'media');

            // Root (with DAC_OVERRIDE) reads the mode 000 file. So does the workload's user: the consumer's
            // fsGroup made the kubelet add group read and write to every file, as on a real node. Nobody cannot.
            const unreadable = !helper.runAsRoot && !helper.consumer;
            if (!unreadable) assert.equal(backup.status, 'success', `${backup.message} / ${backup.warnings.join(' | ')}`);
            else {
              assert.equal(backup.status, 'partial', `${backup.message} / ${backup.warnings.join(' | ')}`);
              assert.match(backup.message, /1 unreadable file: locked\/mode-000\.bin/);
            }

            const restore = await restoreVolume(
              sb.kubeConfig,
              { archivePath: backup.archivePath!, expectedSha256: backup.checksum, target: { context: 'sandbox', namespace: 'media', pvc: `restored-${n}` }, createClaim: {}, runAsRoot: helper.runAsRoot },
              settings,
              `matrix-restore-${n}`,
            );
            assert.equal(restore.status, 'success', `${restore.message} / ${restore.nextStep} / ${restore.warnings.join(' | ')}`);

            const expected = describeTree(source);
            for (const special of corpus.specials) expected.delete(special);
            if (unreadable) expected.delete(MODE_000_FILE);
            const restored = describeTree(sb.cluster.volumePath('media', `restored-${n}`));
            assert.ok(expected.has(RESUME_FILE) && expected.has(keyOf(LATIN1_NAME)) && expected.has('line\nbreak.txt'));
            assert.deepEqual([...restored.keys()].sort(), [...expected.keys()].sort(), 'the same names');
            const comparable = (e: TreeEntry) => ({ kind: e.kind, mode: e.kind === 'symlink' ? 'any' : e.mode, size: e.size, sha256: e.sha256, target: e.target, ...(helper.runAsRoot ? { uid: e.uid, gid: e.gid } : {}) });
            // Known difference: BusyBox tar gives symlinks no owner (lchown), so as root they stay root's.
            const busyboxLinks = helper.runAsRoot && BUSYBOX_IMAGES.includes(image);
            for (const [key, entry] of expected) {
              const want = busyboxLinks && entry.kind === 'symlink' ? { ...entry, uid: 0, gid: 0 } : entry;
              assert.deepEqual(comparable(restored.get(key)!), comparable(want), `${JSON.stringify(key)} restored as archived`);
            }
            assert.deepEqual(hardLinkGroups(restored), hardLinkGroups(expected), 'hard links stay one file');
            assert.equal(restore.files, [...expected.values()].filter((e) => e.kind === 'file').length);
            assert.deepEqual(await leftoverHelpers(core), []);
            // Fifos, sockets and devices are left out at backup time, with a note naming them.
            const notes = backup.warnings.join('\n');
            for (const special of corpus.specials) assert.ok(notes.includes(special), `the note names ${special}: ${notes}`);
            assert.match(notes, /not backed up/i);

          } finally {
            corpus.close();
            await deletePodsNow(core, 'media');
          }
        });
      }
    });
  }
});
