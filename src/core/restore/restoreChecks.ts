import type { KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { runtimeGrantNextStep } from '../backup/helperPod';
import { describeKubeError } from '../kube/describeKubeError';
import { BrokenChainError } from '../incremental/chainTree';
import { ArchiveTally, tallyStream } from './archiveTally';
import { RestoreStageError, restoreNextStepFor } from './restoreStage';
import { describeRestoreTarget, RestoreTargetInfo } from './restoreTarget';
import { archiveFileSource, BROKEN_CHAIN_NEXT_STEP, chainSource, checkArchiveFile, isChain, type RestoreSource } from './restoreSource';
import type { RestoreRequest } from './restoreVolume';

// What a restore checks before it creates anything: the archive on this machine, then the target claim.

/** An archive (or chain) checked and counted, and the source both passes of the restore read. */
export interface CheckedArchive {
  tally: ArchiveTally;
  source: RestoreSource;
}

/**
 * Everything that can be known without the cluster: the file (or every archive of the chain), checksums,
 * entries, the paths. An incremental backup's chain is counted as the merged tar that will be sent: from the
 * headers read while opening it when they allow, else by reading the merge once before the upload.
 */
export async function checkArchive(request: RestoreRequest, signal?: AbortSignal): Promise<CheckedArchive> {
  const { archivePath } = request;
  if (isChain(request.chain)) {
    const source = await chainSource(request.chain, request.paths, signal);
    if (source.tally) return { tally: checkedTally(source.tally), source };
    let tally: ArchiveTally;
    try {
      tally = await tallySource(source, request.paths ?? [], signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      const cause = e instanceof BrokenChainError ? e.message : `the merged chain could not be read: ${(e as Error).message}`;
      throw new RestoreStageError('create', `the backup's chain cannot be restored: ${cause}`, BROKEN_CHAIN_NEXT_STEP);
    }
    return { tally: checkedTally(tally), source };
  }
  await checkArchiveFile(archivePath);
  const checksumMismatch = (actual: string): RestoreStageError | undefined =>
    request.expectedSha256 && actual !== request.expectedSha256.toLowerCase()
      ? new RestoreStageError(
          'create',
          `the archive ${archivePath} no longer matches its recorded checksum (sha256 ${actual}, recorded ${request.expectedSha256})`,
          'The file was changed or damaged after the backup: restore another backup of this volume.',
        )
      : undefined;
  const source = await archiveFileSource(archivePath);
  let tally: ArchiveTally;
  try {
    tally = await tallySource(source, request.paths ?? [], signal);
  } catch (e) {
    if (signal?.aborted) throw e;
    // A damaged archive with a recorded checksum is first of all a checksum mismatch: say that.
    const mismatch = request.expectedSha256 ? checksumMismatch(await sha256OfFile(archivePath, signal)) : undefined;
    throw mismatch ?? new RestoreStageError('create', `the archive ${archivePath} cannot be read: ${(e as Error).message}`, 'Pick another backup of this volume; this file is damaged or is not a .tar.gz.');
  }
  const mismatch = checksumMismatch(tally.sha256);
  if (mismatch) throw mismatch;
  return { tally: checkedTally(tally), source };
}

/** Refuses entries that must not reach a volume and paths the archive does not hold. */
function checkedTally(tally: ArchiveTally): ArchiveTally {
  if (tally.unsafe.length) {
    const listed = tally.unsafe.slice(0, 5).map((u) => `${u.path} (${u.reason})`);
    throw new RestoreStageError('create', `the archive has entries that must not be written into a volume: ${listed.join('; ')}`, 'Restore an archive made by a backup of this tool, or select only safe paths.', tally.unsafe.map((u) => `${u.path}: ${u.reason}`));
  }
  const missing = [...tally.members].filter(([, member]) => member === undefined).map(([p]) => p);
  if (missing.length) {
    throw new RestoreStageError('create', `the archive has nothing at ${missing.map((p) => JSON.stringify(p)).join(', ')}`, 'Check the paths against the archive listing (paths are relative to the volume root, like docs/report.txt).');
  }
  return tally;
}

/** Counts what a source gives, as the upload will count the same bytes. */
function tallySource(source: RestoreSource, paths: readonly string[], signal?: AbortSignal): Promise<ArchiveTally> {
  return tallyStream(source.read(signal), source.gzipped, paths, signal);
}

export async function readTarget(kubeConfig: KubeConfig, namespace: string, pvc: string): Promise<RestoreTargetInfo> {
  try {
    return await describeRestoreTarget(kubeConfig, namespace, pvc);
  } catch (e) {
    const d = describeKubeError(e);
    throw new RestoreStageError('create', `could not read PersistentVolumeClaim "${pvc}" and the pods using it: ${d.message}`, d.kind === 'forbidden' ? runtimeGrantNextStep(namespace, 'get persistentvolumeclaims, list pods') : restoreNextStepFor('create', { namespace }));
  }
}

export function checkTarget(request: RestoreRequest, info: RestoreTargetInfo): void {
  const { namespace, pvc } = info;
  if (request.createClaim && info.exists) {
    throw new RestoreStageError('create', `PersistentVolumeClaim "${pvc}" already exists in namespace "${namespace}"`, 'Restore into it without creating a claim (emptyFirst to replace its contents), or choose a new claim name.');
  }
  if (!request.createClaim && !info.exists) {
    throw new RestoreStageError('create', `PersistentVolumeClaim "${pvc}" was not found in namespace "${namespace}"`, 'Restore into a new claim (create it with the restore), or check the namespace and claim name.');
  }
  const holder = info.inUseOnNode;
  if (!holder) return;
  if (holder.readWriteOncePod) {
    throw new RestoreStageError('create', `"${pvc}" is ReadWriteOncePod and pod ${holder.pod} uses it, so no other pod can mount it`, `Scale ${holder.pod}'s workload down to zero, or restore to a new claim.`);
  }
  if (!request.allowInUseOnNode) {
    throw new RestoreStageError(
      'create',
      `"${pvc}" is ReadWriteOnce and mounted by the running pod ${holder.pod} on node ${holder.node}; restoring would change files under it`,
      `Scale ${holder.pod}'s workload down to zero and restore again, restore to a new claim, or allow writing while it runs (allowInUseOnNode: the helper then runs on ${holder.node}).`,
    );
  }
}

async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
