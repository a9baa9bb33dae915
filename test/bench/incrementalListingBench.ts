// Times what an incremental backup does before it sends anything: the volume listing in the helper pod
// (through the sandbox cluster's exec, as a backup runs it) and the comparison with the previous listing,
// with nothing changed: `npm run bench:incremental-listing [files]`. Prints figures; asserts nothing.
import { CoreV1Api } from '@kubernetes/client-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_MOUNT, HELPER_CONTAINER } from '../../src/core/backup/helperPodSpec';
import { selectChanges } from '../../src/core/incremental/changeSelection';
import { compareListings } from '../../src/core/incremental/listingChanges';
import { listVolumeInPod } from '../../src/core/incremental/listVolumeInPod';
import { decodePodListing, encodePodListing } from '../../src/core/incremental/podListingCodec';
import { boundClaim } from '../integration/restore/restoreFixture';
import { eventually, startSandbox } from '../integration/sandboxFixture';
import { cpuSnapshot, othersCores } from './machineLoad';

const FILES = Number(process.argv[2] ?? 100_000);
const PER_FOLDER = 100;
const IMAGES = ['alpine:3.20', 'debian:12-slim'];

async function main(): Promise<void> {
  const sb = await startSandbox();
  try {
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    const root = await boundClaim(sb, 'media', 'many-files');
    for (let i = 0; i < FILES; i++) {
      const folder = join(root, `folder-${Math.floor(i / PER_FOLDER)}`);
      if (i % PER_FOLDER === 0) mkdirSync(folder);
      writeFileSync(join(folder, `file-${i}.txt`), `small file ${i}\n`);
    }
    // Past the clock tick of the last write, so that no file counts as racy.
    await new Promise((r) => setTimeout(r, 50));
    console.log(`${FILES} files in ${Math.ceil(FILES / PER_FOLDER)} folders`);
    for (const image of IMAGES) {
      const pod = `lister-${image.replace(/[^a-z0-9]/g, '-')}`;
      await core.createNamespacedPod({
        namespace: 'media',
        body: {
          metadata: { name: pod },
          spec: {
            containers: [{ name: HELPER_CONTAINER, image, command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: DATA_MOUNT, readOnly: true }] }],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'many-files' } }],
          },
        },
      });
      await eventually(`${pod} Running`, async () => (await core.readNamespacedPod({ name: pod, namespace: 'media' })).status?.phase === 'Running', 30_000);
      const list = () => listVolumeInPod(sb.kubeConfig, { namespace: 'media', pod, image });
      const base = await list();
      const encoded = encodePodListing(base);
      const from = cpuSnapshot();
      const t0 = performance.now();
      const next = await list();
      const t1 = performance.now();
      const changes = compareListings(decodePodListing(encoded.bytes), next);
      const selection = selectChanges(changes, next);
      const t2 = performance.now();
      const load = othersCores(from, cpuSnapshot());
      const encodeStart = performance.now();
      const stored = encodePodListing(next);
      const encodeMs = performance.now() - encodeStart;
      console.log(
        `${image}: listing ${(t1 - t0).toFixed(0)} ms for ${next.entries.length} entries, decode + compare ${(t2 - t1).toFixed(0)} ms, ` +
          `total ${((t2 - t0) / 1000).toFixed(2)} s; to send: ${selection.names.length} entries; ` +
          `stored listing ${(stored.bytes.length / 1024).toFixed(0)} KiB (encoded in ${encodeMs.toFixed(0)} ms); other processes kept ${load.toFixed(2)} cores busy`,
      );
      await core.deleteNamespacedPod({ name: pod, namespace: 'media', gracePeriodSeconds: 0 });
    }
  } finally {
    await sb.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
