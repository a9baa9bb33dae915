import { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { basename } from 'node:path';
import { normaliseEntryPath } from '../archive/entrySafety';
import type { BackupSettings } from '../backup/backupVolume';
import { StageError } from '../backup/backupStage';
import { deleteHelperPod, runtimeGrantNextStep } from '../backup/helperPod';
import { startHelperPod } from '../backup/helperStart';
import { describeIdentity, helperIdentity, helperPodAs, ownerIdentity, type HelperIdentity } from '../backup/helperIdentity';
import { describePodSecurity, namespacePodSecurity } from '../backup/namespacePodSecurity';
import { decideOwner, decideRestoreOwner, describeOwners, type VolumeOwners } from '../backup/volumeOwners';
import { probeVolumeOwners } from '../backup/volumeOwnersProbe';
import { HelperLease } from '../backup/helperLease';
import { prepareHelperPod } from '../backup/helperPreparation';
import { helperPodSpec } from '../backup/helperPodSpec';
import { configuredHelperUser, DEFAULT_HELPER_POD_SETTINGS, helperRunsAsRoot } from '../config/helperSettings';
import { describeKubeError } from '../kube/describeKubeError';
import type { ChainLink } from '../incremental/openChain';
import type { ArchiveTally } from './archiveTally';
import { checkArchive, checkTarget, readTarget } from './restoreChecks';
import { restoreHelperPod } from './restoreHelperPodSpec';
import type { RestoreSource } from './restoreSource';
import { upload } from './restoreUpload';
import { RestoreStage, RestoreStageError, restoreNextStepFor } from './restoreStage';
import { claimSizeFor, ClaimShape, restoreClaimManifest } from './restoreTarget';

export type RestoreStatus = 'success' | 'failed' | 'cancelled';

export interface RestoreTargetRef {
  context: string;
  namespace: string;
  pvc: string;
}

export interface RestoreRequest {
  /** A `.tar.gz` made by a backup; for an incremental backup, its own archive (the last link of `chain`). */
  archivePath: string;
  /**
   * An incremental backup's archives, oldest (its full backup) first, ending with `archivePath`, with their
   * recorded checksums (resolveHistoryChain gives them). With more than one link the volume at the newest
   * archive is restored, deletions included, each file sent once; `expectedSha256` is then not used.
   */
  chain?: readonly ChainLink[];
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
  /** Extra labels and annotations for a claim this restore creates (a drill's temporary claim and its lease). */
  claimLabels?: Record<string, string>;
  /** Made when the claim is created (a lease stamped then, not before the archive was read). */
  claimAnnotations?: () => Record<string, string>;
  /**
   * Runs in the helper once everything is written and counted, before the helper is deleted (a drill
   * lists the volume there); a throw fails the restore like any other stage.
   */
  afterWrite?: (helper: WrittenVolume) => Promise<void>;
}

/** The helper that wrote a restore, for work on the volume in the same pod. */
export interface WrittenVolume {
  namespace: string;
  pod: string;
  /** The user the helper ran as; 0 for root, undefined when the image decides. */
  runAsUser?: number;
  signal?: AbortSignal;
}

export type RestoreSettings = Pick<
  BackupSettings,
  'helperImage' | 'helperPodTimeoutSeconds' | 'helperDeadlineSeconds' | 'imagePullSecrets' | 'helperPod' | 'helperOwner' | 'onHelperProblem'
>;

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
  /** Bytes read to restore: the archive file, or for a chain the merged tar sent. */
  archiveBytes?: number;
  /** sha256 of the archive restored (for a chain, of the backup's own archive, checked with the others). */
  checksum?: string;
  /** Archives of the chain restored through, when more than one (an incremental backup). */
  chainArchives?: number;
  /** Bytes the exec stream carried to the helper: for a chain, the merged tar as compressed on the way. */
  sentBytes?: number;
  /** Regular files and their bytes written, as the helper counted them on the volume. */
  files?: number;
  bytes?: number;
  /** The claim was created by this restore (and deleted again if the restore did not succeed). */
  claimCreated: boolean;
  /**
   * Set when the restore stopped before writing because only root could replace the files, and the
   * namespace's Pod Security level admits a root helper: the same restore with runAsRoot would work.
   */
  rootWouldWrite?: boolean;
  helperPod?: string;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

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
  let lease: HelperLease | undefined;
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
  let source: RestoreSource | undefined;
  try {
    report('create');
    ({ tally: preflight, source } = await checkArchive(request, options.signal));
    totalBytes = preflight.archiveBytes;
    const info = await readTarget(kubeConfig, namespace, pvc);
    checkTarget(request, info);
    options.signal?.throwIfAborted();
    if (request.createClaim) {
      await createClaim(core, request, preflight);
      claimCreated = true;
    }
    const base = await backupHelperSpec(core, request, settings, runId, claimCreated);
    // Nobody names a user: when the archive's files belong to one non-root user, write as that user, so they
    // keep their owner without root (a new claim's root is then handed to that user's group).
    const archived = base.identity.source === 'default' ? decideOwner({ owners: preflight.owners }, base.identity.runAsUser) : undefined;
    if (archived?.kind === 'owner') base.identity = ownerIdentity(base.identity, archived);
    if (archived?.kind === 'owner') base.spec = helperPodAs(base.spec, base.identity);
    let spec = restoreHelperPod(base.spec, pvc, { newClaim: claimCreated });
    const startHelper = (): Promise<string> =>
      startHelperPod(kubeConfig, core, spec, {
        namespace,
        timeoutSeconds: settings.helperPodTimeoutSeconds,
        signal: options.signal,
        onProblem: settings.onHelperProblem,
        onCreated: (name, started) => ((podName = name), (lease = started)),
        onWait: () => report('wait'),
      });
    let helperName = await startHelper();
    if (!claimCreated && (base.identity.source === 'default' || archived?.kind === 'owner')) {
      // Nobody names a user for this claim: the volume's own owners decide, before anything is written.
      const owners = await probeVolumeOwners(kubeConfig, namespace, helperName, options.signal).catch(() => undefined);
      const decision = owners && decideRestoreOwner(owners, base.identity);
      if (decision?.kind === 'refuse') throw await ownersRefusal(core, request, owners!, describeIdentity(base.identity));
      if (decision?.kind === 'owner' || decision?.kind === 'takeEmptyRoot') {
        await lease!.stop();
        await deleteHelperPod(core, namespace, helperName, kubeConfig);
        podName = undefined;
        spec =
          decision.kind === 'owner'
            ? restoreHelperPod(helperPodAs(base.spec, ownerIdentity(base.identity, decision)), pvc)
            : restoreHelperPod(base.spec, pvc, { newClaim: true });
        report('create');
        helperName = await startHelper();
      }
    }
    report('upload');
    const members = (request.paths ?? []).map((p) => preflight!.members.get(normaliseEntryPath(p))!);
    const security = spec.spec?.securityContext;
    const helper = {
      image: settings.helperImage,
      runAs: `uid ${security?.runAsUser ?? 'of the image'}${security?.runAsGroup !== undefined ? `, gid ${security.runAsGroup}` : ''}`,
      runsAsRoot: security?.runAsUser === 0,
      newClaim: claimCreated,
    };
    const uploaded = await upload(
      kubeConfig,
      namespace,
      helperName,
      source,
      request,
      members,
      options.signal,
      (n) => {
        sent = n;
        report('upload');
      },
      helper,
    );
    report('verify');
    const tally = uploaded.tally;
    if (tally.sha256 !== preflight.sha256) {
      const what = source.archives > 1 ? `the chain's archives changed while they were being restored (merged sha256` : `the archive changed while it was being restored (sha256`;
      throw new RestoreStageError('verify', `${what} ${preflight.sha256} before, ${tally.sha256} sent)`, 'Make sure nothing writes the archive files, then restore again with emptyFirst.');
    }
    const written = uploaded.count;
    if (written.files !== tally.files || written.bytes !== tally.bytes) {
      throw new RestoreStageError(
        'verify',
        `the volume holds ${written.files} files (${written.bytes} bytes) under the restored names, but the archive has ${tally.files} files (${tally.bytes} bytes)`,
        restoreNextStepFor('verify', { namespace }),
      );
    }
    await request.afterWrite?.({ namespace, pod: helperName, runAsUser: security?.runAsUser, signal: options.signal });
    result = finish({
      status: 'success',
      stage: 'cleanup',
      message: `Restored ${written.files} files (${written.bytes} bytes) into ${namespace}/${pvc}`,
      evidence: [],
      warnings: [...ownersNotKept(tally, spec), ...uploaded.warnings],
      archiveBytes: tally.archiveBytes,
      checksum: source.ownSha256 ?? tally.sha256,
      ...(source.archives > 1 ? { chainArchives: source.archives } : {}),
      sentBytes: uploaded.sentBytes,
      files: written.files,
      bytes: written.bytes,
    });
  } catch (e) {
    const known = { archiveBytes: preflight?.archiveBytes, checksum: source?.ownSha256 ?? preflight?.sha256 };
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
      if (failure instanceof OwnersRefusal && failure.rootAllowed) result.rootWouldWrite = true;
    }
  }

  await lease?.stop();
  if (podName) {
    // Waits until the pod is gone: a cancelled restore's tar may still be writing until then.
    try {
      await deleteHelperPod(core, namespace, podName, kubeConfig);
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
async function backupHelperSpec(core: CoreV1Api, request: RestoreRequest, settings: RestoreSettings, runId: string, newClaim: boolean): Promise<{ spec: V1Pod; identity: HelperIdentity }> {
  const { namespace, pvc } = request.target;
  const helper = { ...DEFAULT_HELPER_POD_SETTINGS, ...settings.helperPod, imagePullSecrets: [...(settings.imagePullSecrets ?? []), ...(settings.helperPod?.imagePullSecrets ?? [])] };
  const deadlineSeconds = settings.helperDeadlineSeconds ?? helper.deadlineSeconds;
  const owner = settings.helperOwner;
  if (!newClaim) {
    const prepared = await prepareHelperPod(core, { namespace, pvc, runId, image: settings.helperImage, deadlineSeconds, helper, owner, runAsRoot: request.runAsRoot });
    return { spec: prepared.spec, identity: prepared.identity };
  }
  const identity = helperIdentity({}, helperRunsAsRoot(helper, namespace, request.runAsRoot), configuredHelperUser(helper, namespace, pvc));
  const spec = helperPodSpec({
    namespace,
    pvc,
    runId,
    image: settings.helperImage,
    deadlineSeconds,
    owner,
    leaseSeconds: helper.leaseSeconds,
    identity,
    imagePullSecrets: [...helper.imagePullSecrets],
    resources: helper.resources,
    extraTolerations: [...helper.tolerations],
    nodeSelector: helper.nodeSelector,
  });
  return { spec, identity };
}

/** "Owners not kept: ..." when a non-root helper wrote files the archive gives to other users; nothing otherwise. */
function ownersNotKept(tally: ArchiveTally, spec: V1Pod): string[] {
  const uid = spec.spec?.securityContext?.runAsUser;
  if (uid === undefined || uid === 0) return [];
  const others = tally.owners.filter((o) => o.uid !== uid);
  if (!others.length) return [];
  const byUid = new Map<number, number>();
  for (const o of others) byUid.set(o.uid, (byUid.get(o.uid) ?? 0) + o.entries);
  const listed = [...byUid].map(([u, n]) => `${n} ${n === 1 ? 'entry' : 'entries'} of uid ${u}${u === 0 ? ' (root)' : ''}`).join(', ');
  return [`Owners not kept: ${listed} now belong to uid ${uid}, the helper's user. Restore as root (where Pod Security allows it) to give them their archived owners.`];
}

/** A restore stopped before writing because only root could replace the files; says whether root is admitted. */
class OwnersRefusal extends RestoreStageError {
  constructor(causeText: string, nextStep: string, readonly rootAllowed: boolean) {
    super('create', causeText, nextStep);
  }
}

/** Stops a restore before it writes into files a non-root helper could neither replace nor give back. */
async function ownersRefusal(core: CoreV1Api, request: RestoreRequest, owners: VolumeOwners, runAs: string): Promise<RestoreStageError> {
  const { namespace, pvc } = request.target;
  const podSecurity = await namespacePodSecurity(core, namespace);
  const root =
    podSecurity.enforce === 'restricted'
      ? `Root is refused here (namespace "${namespace}" enforces Pod Security "restricted"): restore into a new claim instead`
      : `Restore as root, which namespace "${namespace}" allows (${describePodSecurity(podSecurity)}): turn on "run as root" for this restore ("Restore as Root" in VS Code, --as-root with nkvm restore), or add "${namespace}" to nkvm.helper.runAsRoot (NKVM_HELPER_RUN_AS_ROOT), so owners come back as archived`;
  return new OwnersRefusal(
    `the files in ${namespace}/${pvc} belong to ${describeOwners(owners)}; the helper, running as ${runAs}, could neither replace them nor give them their owners. Nothing was written`,
    `${root}; or name one owner for the claim in nkvm.helper.runAsUser (e.g. {"${namespace}/${pvc}": "999:999"}), or restore into a new claim.`,
    podSecurity.enforce !== 'restricted',
  );
}

function addCleanupFailure(result: RestoreResult, failure: RestoreStageError): void {
  // The restore's own outcome stands; what was left behind is reported next to it.
  result.message = `${result.message}; ${failure.message}`;
  result.nextStep = [result.nextStep, failure.nextStep].filter(Boolean).join(' ');
}

async function createClaim(core: CoreV1Api, request: RestoreRequest, tally: ArchiveTally): Promise<void> {
  const { namespace, pvc } = request.target;
  const shape = { ...request.createClaim, storage: request.createClaim?.storage ?? claimSizeFor(tally.bytes) };
  try {
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: restoreClaimManifest(namespace, pvc, shape, basename(request.archivePath), request.claimLabels, request.claimAnnotations?.()) });
  } catch (e) {
    const d = describeKubeError(e);
    throw new RestoreStageError('create', `could not create PersistentVolumeClaim "${pvc}": ${d.message}`, d.kind === 'forbidden' ? runtimeGrantNextStep(namespace, 'create persistentvolumeclaims') : 'Check the size and storage class (kubectl get storageclass) and the namespace quota, then restore again.');
  }
}
