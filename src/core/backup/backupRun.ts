import { hookRunsToHistory } from '../hooks/hookRun';
import type { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { HistoryStore } from '../history/historyStore';
import { BackupProgress, BackupResult, BackupSettings, BackupTarget, backupVolume } from './backupVolume';
import { outcomeFields } from '../history/outcomeFields';
import { RunningHistoryRow } from '../history/runningHistoryRow';
import { recoverInterruptedWork } from './interruptedWork';
import { loadBackupDigests, recordBackupDigests } from '../archive/archiveDigestsHistory';
import { chooseIncrementalBase, selectionKey, type BaseDecision, type IncrementalRequest } from '../incremental/incrementalBase';
import { pointInTimeDigests } from '../incremental/pointInTimeDigests';
import { pathBytes, type IncrementalManifest } from '../incremental/incrementalManifest';
import { DEFAULT_ARCHIVE_SETTINGS } from '../config/archiveSettings';
import type { HistoryStore as History } from '../history/historyStore';

export interface BackupRunOptions {
  kubeConfigFor: (context: string) => KubeConfig;
  settings: BackupSettings;
  /** 1 backs up one volume after the other. */
  concurrency: number;
  /** `--full` / `--incremental`: over nkvm.backup.incremental and nkvm.backup.fullEvery. */
  incremental?: IncrementalRequest;
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
      const base = await chooseBase(options, target);
      const planned = 'base' in base ? { kind: 'incremental' as const, baseId: base.base.id } : {};
      const row =
        options.history &&
        (await RunningHistoryRow.start(options.history, {
          operation: 'backup',
          runId,
          context: target.context,
          namespace: target.namespace,
          pvcName: target.pvc,
          stage: 'create',
          // Retention keeps the base of a backup that is running.
          ...planned,
        }));
      const result = await backupOne(target, runId, row ? { ...options, onProgress: row.tracking(options.onProgress) } : options, base);
      if (row) {
        try {
          const id = await row.finish(historyRecordOf(result));
          if (result.archivePath) await recordListings(options.history!, id, result, selectionKey(selectionOf(options)));
        } catch (e) {
          options.onHistoryError?.(e as Error, result);
        }
      }
      // The listing and the manifest's deleted paths grow with the volume: they go to the history, not further.
      const { listing: _listing, manifest: _manifest, ...handedOn } = result;
      results[index] = handedOn;
      options.onResult?.(handedOn);
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
async function backupOne(target: BackupTarget, runId: string, options: BackupRunOptions, base: BaseDecision): Promise<BackupResult> {
  const startedAt = new Date();
  try {
    const kubeConfig = options.kubeConfigFor(target.context);
    return await backupVolume(kubeConfig, target, options.settings, runId, { signal: options.signal, onProgress: options.onProgress, base });
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

function selectionOf(options: BackupRunOptions): { include: readonly string[]; exclude: readonly string[] } {
  return { include: options.settings.backupInclude ?? [], exclude: options.settings.backupExclude ?? [] };
}

/** Never throws: a history that cannot be read makes the backup full, saying so. */
async function chooseBase(options: BackupRunOptions, target: BackupTarget): Promise<BaseDecision> {
  const { settings } = options;
  try {
    return await chooseIncrementalBase(options.history, {
      target,
      selection: selectionOf(options),
      policy: settings.incremental ?? DEFAULT_ARCHIVE_SETTINGS.incremental,
      fullEvery: settings.fullEvery ?? DEFAULT_ARCHIVE_SETTINGS.fullEvery,
      ...(options.incremental ? { request: options.incremental } : {}),
    });
  } catch (error) {
    return { fullBecause: `the history could not be read to find a base (${(error as Error).message})` };
  }
}

/**
 * What the next backups and drills need from this one: the volume's listing (the base of the next incremental
 * backup; only a complete backup can be one) and every entry's digest at this point in time.
 */
async function recordListings(history: History, id: number, result: BackupResult, selection: string): Promise<void> {
  const { listing, digests, manifest } = result;
  if (listing && result.status === 'success') {
    await history.savePodListing({ historyId: id, recordedAt: new Date().toISOString(), entryCount: listing.entries, sha256: listing.sha256, listing: listing.bytes, selection });
  }
  if (!digests) return;
  if (!manifest) return recordBackupDigests(history, id, digests);
  // An incremental archive holds only what changed: the volume at this backup is its base's entries, updated.
  const base = await loadBackupDigests(history, manifest.base.id);
  if (base) await recordBackupDigests(history, id, pointInTimeDigests(base, manifest.deleted.map(pathBytes), digests));
}

/**
 * The manifest as the history keeps it: base, chain, listing digest and counts. The deleted paths stay in the
 * archive's own manifest (they can be as many as the volume's files); their number is in the counts.
 */
function incrementRecord(manifest: IncrementalManifest): string {
  const { deleted: _deleted, ...kept } = manifest;
  return JSON.stringify(kept);
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
    kind: result.kind ?? 'full',
    baseId: result.kind === 'incremental' ? (result.baseId ?? null) : null,
    increment: result.manifest ? incrementRecord(result.manifest) : null,
  };
}
