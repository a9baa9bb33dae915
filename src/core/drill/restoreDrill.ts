import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { ArchiveFileDigests, DigestEntry } from '../archive/archiveDigests';
import { loadBackupDigests } from '../archive/archiveDigestsHistory';
import { newRunId } from '../backup/backupRun';
import { errnoCode } from '../history/errnoCode';
import type { DrillOutcome, HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import type { RestoreProgress, RestoreSettings } from '../restore/restoreVolume';
import { restoreVolume } from '../restore/restoreVolume';
import { RestoreStageError } from '../restore/restoreStage';
import type { ChainLink } from '../incremental/openChain';
import { drillArchiveDigests } from './drillArchiveDigests';
import { backupRestoreInput } from '../restore/backupRestoreInput';
import { drillClaimAnnotations, drillClaimLabels, drillClaimName, removeDrillClaim } from './drillClaim';
import { compareArchiveContent, compareRestored, type DrillComparison } from './drillCompare';
import { drillMessage } from './drillMessage';
import { listRestoredVolume } from './volumeListing';

export interface DrillRequest {
  /** The backup's archive; for an incremental backup its own, the last link of `chain`. */
  archivePath: string;
  /** An incremental backup's archives from its full backup on (backupRestoreInput): the drill restores through them. */
  chain?: readonly ChainLink[];
  /** The backup's history row, when the archive is in the history: its checksum, listing and drill columns. */
  backup?: HistoryRecord;
  context: string;
  /** Where the temporary claim is made; the backup's own namespace by default (see drillNamespace). */
  namespace: string;
  storageClass?: string;
  /** Run the helper as root, so owners are written (and compared) as archived. */
  runAsRoot?: boolean;
}

export type DrillStage = 'check' | RestoreProgress['stage'] | 'compare' | 'cleanup';

export interface DrillProgress {
  stage: DrillStage;
  bytes: number;
  totalBytes: number;
}

export interface DrillResult {
  outcome: DrillOutcome | 'cancelled';
  /** One paragraph: what was restored, what differs, or why the drill could not run. */
  message: string;
  nextStep?: string;
  historyId?: number;
  archivePath: string;
  namespace: string;
  claim: string;
  /** `backup`: the listing recorded as the backup was made; `archive`: read from the archive file now (older backups). */
  reference: 'backup' | 'archive';
  checksum: { recorded?: string; actual?: string; matches?: boolean };
  /** Files whose data in the archive file differs from the backup-time listing (only when the checksum differs). */
  archiveDifferences?: DrillComparison;
  /** The restored volume against the reference. */
  comparison?: DrillComparison;
  restore?: { status: string; stage: string; message: string; files?: number; bytes?: number; warnings: string[] };
  /** False when the temporary claim could not be deleted (the message says how to). */
  claimRemoved: boolean;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

export interface DrillOptions {
  settings: RestoreSettings;
  history?: HistoryStore;
  signal?: AbortSignal;
  onProgress?: (progress: DrillProgress) => void;
}

/** The namespace a drill uses when none is chosen: the backup's own. */
export function drillNamespace(backup: Pick<HistoryRecord, 'namespace'> | undefined, chosen?: string): string | undefined {
  return chosen || backup?.namespace;
}

/**
 * Restores an archive into a temporary claim, lists what was written in the same helper, compares it
 * with the backup-time listing (or, for older backups, the archive's own) and deletes the claim on every
 * path. Never throws; the outcome is saved on the backup's history row unless the drill was cancelled.
 */
export async function runRestoreDrill(kubeConfig: KubeConfig, request: DrillRequest, options: DrillOptions): Promise<DrillResult> {
  const startedAt = new Date();
  const { namespace, backup } = request;
  const claim = drillClaimName();
  const runId = newRunId(startedAt);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const progress = (stage: DrillStage, bytes = 0, totalBytes = 0) => options.onProgress?.({ stage, bytes, totalBytes });
  const base = { archivePath: request.archivePath, namespace, claim, historyId: backup?.id };
  const done = (partial: Omit<DrillResult, keyof typeof base | 'startedAt' | 'finishedAt' | 'durationMs'>): DrillResult => {
    const finishedAt = new Date();
    return { ...base, ...partial, startedAt, finishedAt, durationMs: finishedAt.getTime() - startedAt.getTime() };
  };

  progress('check');
  const recorded = backup && options.history ? await loadBackupDigests(options.history, backup.id).catch(() => undefined) : undefined;
  let local: ArchiveFileDigests;
  let chain = request.chain;
  try {
    // An incremental backup in the history restores through its chain, and is compared with the volume at it.
    if (!chain && backup?.kind === 'incremental' && options.history) chain = (await backupRestoreInput(options.history, backup)).chain;
    // As for a full backup, the backup's own archive is drilled even when its checksum differs, to name the files
    // that changed; the archives it builds on must match theirs, or the chain is broken.
    if (chain && chain.length > 1) chain = [...chain.slice(0, -1), { ...chain[chain.length - 1]!, sha256: undefined }];
    local = await drillArchiveDigests(request.archivePath, chain, options.signal);
  } catch (e) {
    const cancelled = options.signal?.aborted ?? false;
    const missing = errnoCode(e) === 'ENOENT';
    if (e instanceof RestoreStageError && !cancelled) {
      // An incremental backup whose chain is broken: the message names the archive that breaks it.
      const failed = { outcome: 'failed' as const, message: `Could not restore this backup: ${e.causeText}`, nextStep: e.nextStep };
      return saved(options, done({ ...failed, reference: recorded ? 'backup' : 'archive', checksum: { recorded: backup?.checksum ?? undefined }, claimRemoved: true }));
    }
    return saved(
      options,
      done({
        outcome: cancelled ? 'cancelled' : 'failed',
        message: cancelled
          ? 'Cancelled while reading the archive'
          : missing
            ? `The archive ${request.archivePath} does not exist`
            : `Could not read the archive: ${(e as Error).message}`,
        nextStep: cancelled
          ? undefined
          : missing
            ? 'Restore the archive file from where backups are copied to, or run a new backup.'
            : 'Check that the archive file is readable, then run the drill again.',
        reference: recorded ? 'backup' : 'archive',
        checksum: { recorded: backup?.checksum ?? undefined },
        claimRemoved: true,
      }),
    );
  }
  const recordedSum = backup?.checksum ?? undefined;
  const checksum = { recorded: recordedSum, actual: local.sha256, matches: recordedSum ? recordedSum.toLowerCase() === local.sha256 : undefined };
  const archiveDifferences = recorded && checksum.matches === false ? compareArchiveContent(recorded.entries, local.entries) : undefined;
  const reference: DigestEntry[] = recorded?.entries ?? local.entries;

  let comparison: DrillComparison | undefined;
  const restored = await restoreVolume(
    kubeConfig,
    {
      archivePath: request.archivePath,
      ...(chain ? { chain } : {}),
      target: { context: request.context, namespace, pvc: claim },
      createClaim: { storageClassName: request.storageClass, accessModes: ['ReadWriteOnce'] },
      claimLabels: drillClaimLabels(runId, backup?.pvcName ?? claim),
      claimAnnotations: () => drillClaimAnnotations(options.settings.helperOwner, options.settings.helperPodTimeoutSeconds),
      runAsRoot: request.runAsRoot,
      afterWrite: async (helper) => {
        progress('compare');
        const listing = await listRestoredVolume(kubeConfig, helper.namespace, helper.pod, options.settings.helperImage, helper.signal);
        comparison = compareRestored(reference, listing, { helperUid: helper.runAsUser === 0 ? undefined : helper.runAsUser });
      },
    },
    options.settings,
    runId,
    { signal: options.signal, onProgress: (p) => progress(p.stage, p.bytes, p.totalBytes) },
  );
  progress('cleanup');
  // restoreVolume deletes a claim it made when it fails; a successful drill's claim goes here, and a
  // claim whose creation answer was lost is looked for by its unique name either way.
  const leftover = await removeDrillClaim(core, namespace, claim);
  const cancelled = restored.status === 'cancelled';
  const differs = (comparison?.total ?? 0) > 0 || (archiveDifferences?.total ?? 0) > 0;
  const outcome: DrillResult['outcome'] = cancelled ? 'cancelled' : differs ? 'differs' : restored.status === 'success' && comparison ? 'ok' : 'failed';
  const result = done({
    outcome,
    ...drillMessage({
      outcome,
      restored,
      comparison,
      archiveDifferences,
      checksum,
      reference: recorded ? 'backup' : 'archive',
      referenceProblem: recorded ? undefined : local.problem,
      leftover,
    }),
    reference: recorded ? 'backup' : 'archive',
    checksum,
    ...(archiveDifferences ? { archiveDifferences } : {}),
    ...(comparison ? { comparison } : {}),
    restore: {
      status: restored.status,
      stage: restored.stage,
      message: restored.message,
      files: restored.files,
      bytes: restored.bytes,
      warnings: restored.warnings,
    },
    claimRemoved: leftover === undefined,
  });
  return saved(options, result);
}

/** Saves the outcome on the backup's row; a cancelled drill says nothing about the backup and is not saved. */
async function saved(options: DrillOptions, result: DrillResult): Promise<DrillResult> {
  if (result.historyId === undefined || !options.history || result.outcome === 'cancelled') return result;
  try {
    await options.history.update(result.historyId, { drilledAt: result.finishedAt, drillOutcome: result.outcome, drillMessage: result.message });
  } catch (e) {
    result.message = `${result.message} (not saved in the history: ${(e as Error).message})`;
  }
  return result;
}
