import type { KubeConfig } from '@kubernetes/client-node';
import { newRunId } from '../backup/backupRun';
import type { HistoryStore } from '../history/historyStore';
import type { HistoryRecord, NewHistoryRecord } from '../history/historyRecord';
import { RunningHistoryRow } from '../history/runningHistoryRow';
import { ClaimShape, claimShapeOf } from './restoreTarget';
import { RestoreProgress, RestoreRequest, RestoreResult, RestoreSettings, restoreVolume } from './restoreVolume';
import { outcomeFields } from '../history/outcomeFields';
import { backupRestoreInput } from './backupRestoreInput';
import { RestoreStageError } from './restoreStage';

export interface RestoreRunOptions {
  settings: RestoreSettings;
  /** For a new claim without a size or class: copy them from this claim (the one backed up), if it can be read. */
  likeClaim?: { namespace: string; pvc: string };
  history?: HistoryStore;
  /**
   * The history row being restored, when there is one: an incremental backup is then restored through its
   * chain, which `history` gives (a chain it cannot give whole fails the restore at the create stage).
   */
  backup?: HistoryRecord;
  signal?: AbortSignal;
  onProgress?: (progress: RestoreProgress) => void;
  /** Called when the result could not be written to the history; the result is returned anyway. */
  onHistoryError?: (error: Error, result: RestoreResult) => void;
}

/** Restores one archive under a new run id and records the outcome in the history, as a backup run does. */
export async function runRestore(kubeConfig: KubeConfig, request: RestoreRequest, options: RestoreRunOptions): Promise<RestoreResult> {
  const filled = request.createClaim && options.likeClaim ? { ...request, createClaim: await likeSource(kubeConfig, request.createClaim, options.likeClaim) } : request;
  const runId = newRunId();
  const { context, namespace, pvc } = request.target;
  // Recorded from the start, so a restore whose process is killed shows as interrupted, naming the claim it was writing.
  const row = options.history
    ? await RunningHistoryRow.start(options.history, { operation: 'restore', runId, context, namespace, pvcName: pvc, stage: 'create', backupPath: request.archivePath })
    : undefined;
  const onProgress = row ? row.tracking(options.onProgress) : options.onProgress;
  const startedAt = new Date();
  let result: RestoreResult;
  try {
    const input = options.backup?.kind === 'incremental' && options.history ? await backupRestoreInput(options.history, options.backup) : {};
    result = await restoreVolume(kubeConfig, { ...filled, ...input }, options.settings, runId, { signal: options.signal, onProgress });
  } catch (e) {
    if (!(e instanceof RestoreStageError)) throw e;
    result = refused(filled, runId, e, startedAt);
  }
  if (row) {
    try {
      await row.finish(restoreHistoryRecord(result));
    } catch (e) {
      options.onHistoryError?.(e as Error, result);
    }
  }
  return result;
}

/** A restore stopped before anything was created (a chain the history cannot give whole). */
function refused(request: RestoreRequest, runId: string, e: RestoreStageError, startedAt: Date): RestoreResult {
  const finishedAt = new Date();
  const outcome = { status: 'failed' as const, stage: e.stage, message: e.message, nextStep: e.nextStep, evidence: e.evidence, warnings: [] };
  const timing = { startedAt, finishedAt, durationMs: finishedAt.getTime() - startedAt.getTime() };
  return { ...request.target, runId, ...outcome, archivePath: request.archivePath, claimCreated: false, ...timing };
}

/** The new claim's size, class and access modes: as given, else the source claim's. */
async function likeSource(kubeConfig: KubeConfig, given: Partial<ClaimShape>, source: { namespace: string; pvc: string }): Promise<Partial<ClaimShape>> {
  if (given.storage && given.storageClassName && given.accessModes) return given;
  try {
    const shape = await claimShapeOf(kubeConfig, source.namespace, source.pvc);
    return { storage: given.storage ?? shape.storage, storageClassName: given.storageClassName ?? shape.storageClassName, accessModes: given.accessModes ?? shape.accessModes };
  } catch {
    // The source claim may be gone (that is often why one restores): the size then follows the archive.
    return given;
  }
}

/** The history row of a restore: the claim written to, and the archive restored from. */
export function restoreHistoryRecord(result: RestoreResult): NewHistoryRecord {
  return {
    operation: 'restore',
    ...outcomeFields(result),
    sizeBytes: result.archiveBytes ?? null,
    checksum: result.checksum ?? null,
    backupPath: result.archivePath,
  };
}
