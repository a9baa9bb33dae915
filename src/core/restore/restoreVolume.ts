import { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { normaliseEntryPath } from '../archive/entrySafety';
import type { BackupSettings } from '../backup/backupVolume';
import { StageError } from '../backup/backupStage';
import { createHelperPod, deleteHelperPod, runtimeGrantNextStep, waitForHelperPod } from '../backup/helperPod';
import { helperIdentity } from '../backup/helperIdentity';
import { prepareHelperPod } from '../backup/helperPreparation';
import { HELPER_CONTAINER, helperPodSpec } from '../backup/helperPodSpec';
import { DEFAULT_HELPER_POD_SETTINGS, helperRunsAsRoot } from '../config/helperSettings';
import { describeKubeError } from '../kube/describeKubeError';
import { ExecFailedError, ExecRefusedError, ExecStreamBrokenError, execInPod } from '../kube/podExec';
import { ArchiveTally, ArchiveTallyStream, tallyArchiveFile } from './archiveTally';
import { extractCommand, parseRestoredCount } from './extractCommand';
import { restoreHelperPod } from './restoreHelperPodSpec';
import { RestoreStage, RestoreStageError, restoreNextStepFor } from './restoreStage';
import { claimSizeFor, ClaimShape, describeRestoreTarget, restoreClaimManifest, RestoreTargetInfo } from './restoreTarget';

export type RestoreStatus = 'success' | 'failed' | 'cancelled';

export interface RestoreTargetRef {
  context: string;
  namespace: string;
  pvc: string;
}

export interface RestoreRequest {
  /** A `.tar.gz` made by a backup. */
  archivePath: string;
  /** The checksum recorded at backup time: a different archive is refused before anything is created. */
  expectedSha256?: string;
  target: RestoreTargetRef;
  /** Create the target claim (it must not exist); without a size, room for the archive's files. */
  createClaim?: Partial<ClaimShape>;
  /** Remove everything in the volume (dotfiles too) before extracting. */
  emptyFirst?: boolean;
  /** Restore only these archive paths (files or folders); everything when absent or empty. */
  paths?: string[];
  /** Write into a ReadWriteOnce claim mounted by a running pod, from a helper on that pod's node. */
  allowInUseOnNode?: boolean;
  /**
   * Run the helper as root, so that files get their archived owners back; absent: the
   * nkvm.helper.runAsRoot setting decides. Otherwise it writes as the workload's user (or nobody).
   */
  runAsRoot?: boolean;
}

export type RestoreSettings = Pick<BackupSettings, 'helperImage' | 'helperPodTimeoutSeconds' | 'helperDeadlineSeconds' | 'imagePullSecrets' | 'helperPod'>;

export interface RestoreProgress extends RestoreTargetRef {
  stage: RestoreStage;
  /** Archive bytes sent into the pod so far. */
  bytes: number;
  totalBytes: number;
  bytesPerSecond: number;
}

export interface RestoreResult extends RestoreTargetRef {
  runId: string;
  status: RestoreStatus;
  /** The stage reached (success: `cleanup`) or the stage that failed. */
  stage: RestoreStage;
  message: string;
  nextStep?: string;
  evidence: string[];
  /** Lines tar printed on stderr. */
  warnings: string[];
  archivePath: string;
  archiveBytes?: number;
  checksum?: string;
  /** Regular files and their bytes written, as the helper counted them on the volume. */
  files?: number;
  bytes?: number;
  /** The claim was created by this restore (and deleted again if the restore did not succeed). */
  claimCreated: boolean;
  helperPod?: string;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

const defaultDeadlineSeconds = 6 * 3600;

/**
 * Restores an archive into a claim through a helper pod: create, wait, upload, verify, cleanup.
 * Never throws: every outcome is a result; the helper pod is always deleted, and a claim this
 * restore created is deleted again when the restore does not succeed.
 */
export async function restoreVolume(
  kubeConfig: KubeConfig,
  request: RestoreRequest,
  settings: RestoreSettings,
  runId: string,
  options: { signal?: AbortSignal; onProgress?: (p: RestoreProgress) => void } = {},
): Promise<RestoreResult> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const { target, archivePath } = request;
  const { namespace, pvc } = target;
  const startedAt = new Date();
  let stage: RestoreStage = 'create';
  let podName: string | undefined;
  let claimCreated = false;
  let sent = 0;
  let totalBytes = 0;
  const report = (s: RestoreStage): void => {
    stage = s;
    const seconds = (Date.now() - startedAt.getTime()) / 1000;
    options.onProgress?.({ ...target, stage: s, bytes: sent, totalBytes, bytesPerSecond: seconds > 0 ? sent / seconds : 0 });
  };
  const finish = (partial: Pick<RestoreResult, 'status' | 'stage' | 'message' | 'nextStep' | 'evidence' | 'warnings'> & Partial<RestoreResult>): RestoreResult => {
    const finishedAt = new Date();
    return { ...target, runId, archivePath, claimCreated, helperPod: podName, ...partial, startedAt, finishedAt, durationMs: finishedAt.getTime() - startedAt.getTime() };
  };

  let result: RestoreResult;
  let preflight: ArchiveTally | undefined;
  try {
    report('create');
    preflight = await checkArchive(request, options.signal);
    totalBytes = preflight.archiveBytes;
    const info = await readTarget(kubeConfig, namespace, pvc);
    checkTarget(request, info);
    options.signal?.throwIfAborted();
    if (request.createClaim) {
      await createClaim(core, request, preflight);
      claimCreated = true;
    }
    const spec = restoreHelperPod(await backupHelperSpec(core, request, settings, runId, claimCreated), pvc);
    options.signal?.throwIfAborted();
    podName = (await createHelperPod(core, spec)).metadata!.name!;
    report('wait');
    await waitForHelperPod(core, namespace, podName, settings.helperPodTimeoutSeconds, options.signal);
    report('upload');
    const members = (request.paths ?? []).map((p) => preflight!.members.get(normaliseEntryPath(p))!);
    const uploaded = await upload(kubeConfig, namespace, podName, archivePath, request, members, preflight.gzipped, options.signal, (n) => {
      sent = n;
      report('upload');
    });
    report('verify');
    const tally = uploaded.tally;
    if (tally.sha256 !== preflight.sha256) {
      throw new RestoreStageError('verify', `the archive changed while it was being restored (sha256 ${preflight.sha256} before, ${tally.sha256} sent)`, 'Make sure nothing writes the archive file, then restore again with emptyFirst.');
    }
    const written = uploaded.count;
    if (written.files !== tally.files || written.bytes !== tally.bytes) {
      throw new RestoreStageError(
        'verify',
        `the volume holds ${written.files} files (${written.bytes} bytes) under the restored names, but the archive has ${tally.files} files (${tally.bytes} bytes)`,
        restoreNextStepFor('verify', { namespace }),
      );
    }
    result = finish({
      status: 'success',
      stage: 'cleanup',
      message: `Restored ${written.files} files (${written.bytes} bytes) into ${namespace}/${pvc}`,
      evidence: [],
      warnings: uploaded.warnings,
      archiveBytes: tally.archiveBytes,
      checksum: tally.sha256,
      files: written.files,
      bytes: written.bytes,
    });
  } catch (e) {
    const known = { archiveBytes: preflight?.archiveBytes, checksum: preflight?.sha256 };
    if (options.signal?.aborted) {
      result = finish({ status: 'cancelled', stage, message: `Cancelled during the ${stage} stage`, evidence: [], warnings: [], ...known });
    } else {
      const failure =
        e instanceof RestoreStageError
          ? e
          : e instanceof StageError
            ? RestoreStageError.from(e, stage)
            : new RestoreStageError(stage, e instanceof Error ? e.message : String(e), restoreNextStepFor(stage, { namespace, helperPod: podName }));
      result = finish({ status: 'failed', stage: failure.stage, message: failure.message, nextStep: failure.nextStep, evidence: failure.evidence, warnings: [], ...known });
    }
  }

  if (podName) {
    try {
      await deleteHelperPod(core, namespace, podName);
    } catch (e) {
      addCleanupFailure(result, RestoreStageError.from(e as StageError, 'cleanup'));
    }
  }
  if (claimCreated && result.status !== 'success') {
    // A half-restored new claim is worse than none: the next attempt creates it again.
    try {
      await core.deleteNamespacedPersistentVolumeClaim({ name: pvc, namespace });
    } catch (e) {
      if (describeKubeError(e).kind !== 'notFound') {
        addCleanupFailure(result, new RestoreStageError('cleanup', `could not delete the new claim ${pvc}: ${describeKubeError(e).message}`, `Delete it by hand: kubectl -n ${namespace} delete pvc ${pvc}`));
      }
    }
  }
  return result;
}

/**
 * The backup helper for this claim, before it is made read-write. An existing claim goes through the
 * same preparation as a backup (placement, identity, Pod Security); a claim created just now has no
 * pod using it and may not be bound yet (WaitForFirstConsumer binds it when the helper is scheduled).
 */
async function backupHelperSpec(core: CoreV1Api, request: RestoreRequest, settings: RestoreSettings, runId: string, newClaim: boolean): Promise<V1Pod> {
  const { namespace, pvc } = request.target;
  const helper = { ...DEFAULT_HELPER_POD_SETTINGS, ...settings.helperPod, imagePullSecrets: [...(settings.imagePullSecrets ?? []), ...(settings.helperPod?.imagePullSecrets ?? [])] };
  const deadlineSeconds = settings.helperDeadlineSeconds ?? defaultDeadlineSeconds;
  if (!newClaim) {
    return (await prepareHelperPod(core, { namespace, pvc, runId, image: settings.helperImage, deadlineSeconds, helper, runAsRoot: request.runAsRoot })).spec;
  }
  return helperPodSpec({
    namespace,
    pvc,
    runId,
    image: settings.helperImage,
    deadlineSeconds,
    identity: helperIdentity({}, helperRunsAsRoot(helper, namespace, request.runAsRoot)),
    imagePullSecrets: [...helper.imagePullSecrets],
    resources: helper.resources,
    extraTolerations: [...helper.tolerations],
    nodeSelector: helper.nodeSelector,
  });
}

async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function addCleanupFailure(result: RestoreResult, failure: RestoreStageError): void {
  // The restore's own outcome stands; what was left behind is reported next to it.
  result.message = `${result.message}; ${failure.message}`;
  result.nextStep = [result.nextStep, failure.nextStep].filter(Boolean).join(' ');
}

/** Everything that can be known without the cluster: the file, its checksum, its entries, the paths. */
async function checkArchive(request: RestoreRequest, signal?: AbortSignal): Promise<ArchiveTally> {
  const { archivePath } = request;
  try {
    if (!(await stat(archivePath)).isFile()) throw new Error('not a file');
  } catch (e) {
    throw new RestoreStageError('create', `cannot read the archive ${archivePath}: ${(e as Error).message}`, 'Check the archive path; if it was moved or pruned, pick another backup.');
  }
  const checksumMismatch = (actual: string): RestoreStageError | undefined =>
    request.expectedSha256 && actual !== request.expectedSha256.toLowerCase()
      ? new RestoreStageError(
          'create',
          `the archive ${archivePath} no longer matches its recorded checksum (sha256 ${actual}, recorded ${request.expectedSha256})`,
          'The file was changed or damaged after the backup: restore another backup of this volume.',
        )
      : undefined;
  let tally: ArchiveTally;
  try {
    tally = await tallyArchiveFile(archivePath, request.paths ?? [], signal);
  } catch (e) {
    if (signal?.aborted) throw e;
    // A damaged archive with a recorded checksum is first of all a checksum mismatch: say that.
    const mismatch = request.expectedSha256 ? checksumMismatch(await sha256OfFile(archivePath, signal)) : undefined;
    throw mismatch ?? new RestoreStageError('create', `the archive ${archivePath} cannot be read: ${(e as Error).message}`, 'Pick another backup of this volume; this file is damaged or is not a .tar.gz.');
  }
  const mismatch = checksumMismatch(tally.sha256);
  if (mismatch) throw mismatch;
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

async function readTarget(kubeConfig: KubeConfig, namespace: string, pvc: string): Promise<RestoreTargetInfo> {
  try {
    return await describeRestoreTarget(kubeConfig, namespace, pvc);
  } catch (e) {
    const d = describeKubeError(e);
    throw new RestoreStageError('create', `could not read PersistentVolumeClaim "${pvc}" and the pods using it: ${d.message}`, d.kind === 'forbidden' ? runtimeGrantNextStep(namespace, 'get persistentvolumeclaims, list pods') : restoreNextStepFor('create', { namespace }));
  }
}

function checkTarget(request: RestoreRequest, info: RestoreTargetInfo): void {
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

async function createClaim(core: CoreV1Api, request: RestoreRequest, tally: ArchiveTally): Promise<void> {
  const { namespace, pvc } = request.target;
  const shape = { ...request.createClaim, storage: request.createClaim?.storage ?? claimSizeFor(tally.bytes) };
  try {
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: restoreClaimManifest(namespace, pvc, shape, basename(request.archivePath)) });
  } catch (e) {
    const d = describeKubeError(e);
    throw new RestoreStageError('create', `could not create PersistentVolumeClaim "${pvc}": ${d.message}`, d.kind === 'forbidden' ? runtimeGrantNextStep(namespace, 'create persistentvolumeclaims') : 'Check the size and storage class (kubectl get storageclass) and the namespace quota, then restore again.');
  }
}

interface Uploaded {
  tally: ArchiveTally;
  count: { files: number; bytes: number };
  warnings: string[];
}

/** Streams the archive into `tar x` in the pod over exec stdin, tallying the same bytes locally. */
async function upload(
  kubeConfig: KubeConfig,
  namespace: string,
  pod: string,
  archivePath: string,
  request: RestoreRequest,
  members: string[],
  gzipped: boolean,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): Promise<Uploaded> {
  const tally = new ArchiveTallyStream(request.paths ?? [], gzipped);
  const file = createReadStream(archivePath, { highWaterMark: 256 * 1024 });
  let bytes = 0;
  const stop = new AbortController();
  let readError: Error | undefined;
  const fail = (e: Error): void => {
    readError ??= e;
    stop.abort(e);
  };
  // Every chunk goes to the local tally before it is sent; a slow tally slows the upload.
  const tee = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      bytes += chunk.length;
      if (tally.input.write(chunk)) callback(null, chunk);
      else tally.input.once('drain', () => callback(null, chunk));
    },
    flush(callback) {
      tally.input.end();
      callback();
    },
  });
  file.on('error', fail);
  tally.input.on('error', fail);
  const stdin: Readable = file.pipe(tee);
  const onAbort = (): void => stop.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setInterval(() => onBytes(bytes), 250);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (stdout.push(c), cb()) });
  try {
    const exitCode = await execInPod(kubeConfig, {
      namespace,
      pod,
      container: HELPER_CONTAINER,
      command: extractCommand({ emptyFirst: !!request.emptyFirst, members, gzipped }),
      stdin,
      stdout: sink,
      stderr: (c) => stderr.push(c),
      signal: stop.signal,
    });
    onBytes(bytes);
    const messages = Buffer.concat(stderr).toString('utf8').split('\n').map((l) => l.trimEnd()).filter(Boolean);
    if (exitCode !== 0) {
      throw new RestoreStageError('upload', `tar in the helper pod exited with code ${exitCode}${messages.length ? `: ${messages.slice(-3).join(' | ')}` : ''}`, restoreNextStepFor('upload', { namespace, helperPod: pod }), messages);
    }
    const count = parseRestoredCount(Buffer.concat(stdout).toString('utf8'));
    if (!count) throw new RestoreStageError('verify', 'the helper pod did not report what it wrote', restoreNextStepFor('verify', { namespace }), messages);
    return { tally: await tally.result, count, warnings: messages };
  } catch (e) {
    if (e instanceof RestoreStageError || signal?.aborted) throw e;
    if (readError) throw new RestoreStageError('upload', `could not read the archive after ${bytes} bytes: ${readError.message}`, 'Check that the archive file is readable and not being changed, then restore again with emptyFirst.');
    if (e instanceof ExecRefusedError) {
      const forbidden = e.statusCode === 403;
      throw new RestoreStageError('upload', `the API server refused to run tar in the helper pod: ${e.message}`, forbidden ? `Grant create (and get) on pods/exec in "${namespace}" through the RoleBinding nkvm-runtime (deploy/k8s/rbac/rolebinding-runtime-template.yaml).` : restoreNextStepFor('upload', { namespace, helperPod: pod }));
    }
    if (e instanceof ExecFailedError) throw new RestoreStageError('upload', `the helper pod could not run tar: ${e.message}`, restoreNextStepFor('upload', { namespace, helperPod: pod }));
    if (e instanceof ExecStreamBrokenError) throw new RestoreStageError('upload', `the stream broke after ${bytes} bytes: ${e.message}`, restoreNextStepFor('upload', { namespace, helperPod: pod }));
    throw new RestoreStageError('upload', `${(e as Error).message ?? describeKubeError(e).message}`, restoreNextStepFor('upload', { namespace, helperPod: pod }));
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
    file.destroy();
    tee.destroy();
  }
}
