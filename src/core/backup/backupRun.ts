import { hookRunsToHistory } from '../hooks/hookRun';
import type { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { HistoryStore } from '../history/historyStore';
import { BackupProgress, BackupResult, BackupSettings, BackupTarget, backupVolume } from './backupVolume';
import { outcomeFields } from '../history/outcomeFields';
import { RunningHistoryRow } from '../history/runningHistoryRow';
import { recoverInterruptedWork } from './interruptedWork';
import { recordBackupDigests } from '../archive/archiveDigestsHistory';

export interface BackupRunOptions {
  kubeConfigFor: (context: string) => KubeConfig;
  settings: BackupSettings;
  /** 1 backs up one volume after the other. */
  concurrency: number;
  history?: HistoryStore;
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress) => void;
  onResult?: (result: BackupResult) => void;
  /** Called when a result could not be written to the history; the run goes on. */
  onHistoryError?: (error: Error, result: BackupResult) => void;
}

export interface BackupRun {
  runId: string;
  results: BackupResult[];
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

/** Backs up several volumes under one run id; one failure never stops the others. Results keep the input order; never rejects. */
export async function runBackups(targets: BackupTarget[], options: BackupRunOptions): Promise<BackupRun> {
  const runId = newRunId();
  // Partial archives and `running` rows that killed or crashed runs left behind.
  await recoverInterruptedWork(options.settings.backupDir, options.history);
  const results: BackupResult[] = new Array(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const index = next++;
      const target = targets[index];
      const row =
        options.history &&
        (await RunningHistoryRow.start(options.history, {
          operation: 'backup',
          runId,
          context: target.context,
          namespace: target.namespace,
          pvcName: target.pvc,
          stage: 'create',
        }));
      const result = await backupOne(target, runId, row ? { ...options, onProgress: row.tracking(options.onProgress) } : options);
      if (row) {
        try {
          const id = await row.finish(historyRecordOf(result));
          // The listing a restore drill compares with; kept only for an archive that was kept.
          const { digests } = result;
          if (digests && result.archivePath) await recordBackupDigests(options.history!, id, digests);
        } catch (e) {
          options.onHistoryError?.(e as Error, result);
        }
      }
      results[index] = result;
      options.onResult?.(result);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, targets.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return { runId, results };
}

/**
 * One target's backup. A context that cannot be used (unknown, no kubeconfig, a credential plugin
 * that fails) is that target's failed row: the other workers go on and the batch stays cancellable.
 */
async function backupOne(target: BackupTarget, runId: string, options: BackupRunOptions): Promise<BackupResult> {
  const startedAt = new Date();
  try {
    const kubeConfig = options.kubeConfigFor(target.context);
    return await backupVolume(kubeConfig, target, options.settings, runId, { signal: options.signal, onProgress: options.onProgress });
  } catch (e) {
    const finishedAt = new Date();
    const cancelled = options.signal?.aborted ?? false;
    return {
      ...target,
      runId,
      status: cancelled ? 'cancelled' : 'failed',
      stage: 'create',
      message: cancelled ? 'Cancelled during the create stage' : `create stage failed: cannot use context "${target.context}": ${e instanceof Error ? e.message : String(e)}`,
      nextStep: cancelled ? undefined : contextNextStep(target.context),
      evidence: [],
      warnings: [],
      startedAt,
      finishedAt,
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    };
  }
}

function contextNextStep(context: string): string {
  return `Check that the kubeconfig has the context "${context}" (kubectl config get-contexts) and that its credentials work (kubectl --context ${context} get namespaces); refresh the volume list, then back up that volume again.`;
}

export function historyRecordOf(result: BackupResult) {
  return {
    operation: 'backup' as const,
    ...outcomeFields(result),
    sizeBytes: result.sizeBytes ?? null,
    checksum: result.checksum ?? null,
    backupPath: result.archivePath ?? null,
    consistency: result.consistency ?? null,
    snapshotName: result.snapshotName ?? null,
    snapshotAt: result.snapshotAt ?? null,
    hooks: hookRunsToHistory(result.hooks ?? []),
  };
}
