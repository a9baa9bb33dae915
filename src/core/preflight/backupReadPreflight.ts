import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { StageError } from '../backup/backupStage';
import type { BackupHookSettings } from '../config/backupHookSettings';
import { findBackupHooks, type BackupHooks } from '../hooks/backupHooks';
import type { ConsistencyMode } from '../snapshot/consistencyMode';
import { planConsistency } from '../snapshot/consistencyPlan';
import type { SnapshotApi } from '../snapshot/snapshotApi';

/** How a backup of the claim would read it, as Preflight shows it. */
export type PreflightConsistency =
  | { mode: ConsistencyMode; kind: 'live'; reason: string }
  | {
      mode: ConsistencyMode;
      kind: 'snapshot';
      reason: string;
      snapshotClass: string;
      driver: string;
      deletionPolicy: 'Delete' | 'Retain';
      /** The storage class of the temporary claim the helper reads the snapshot through. */
      temporaryClaimClass?: string;
    }
  /** `snapshot` was asked for and the claim cannot be snapshotted: the backup would fail at stage snapshot. */
  | { mode: ConsistencyMode; kind: 'refused'; reason: string; nextStep: string };

export interface ReadFindings<T> {
  value?: T;
  blocked: string[];
  warnings: string[];
  notes: string[];
}

/** Which mode a backup would get and why, from the same decision the backup makes; creates nothing. */
export async function preflightConsistency(
  core: CoreV1Api,
  snapshots: SnapshotApi,
  target: { namespace: string; pvc: string },
  mode: ConsistencyMode,
  snapshotStorageClass: string | undefined,
): Promise<ReadFindings<PreflightConsistency>> {
  const found: ReadFindings<PreflightConsistency> = { blocked: [], warnings: [], notes: [] };
  try {
    const plan = await planConsistency(core, snapshots, target.namespace, target.pvc, mode);
    if (plan.kind === 'live') {
      found.value = { mode, kind: 'live', reason: plan.reason };
      return found;
    }
    const temporaryClaimClass = snapshotStorageClass || plan.claim.spec?.storageClassName;
    found.value = { mode, kind: 'snapshot', reason: plan.reason, snapshotClass: plan.snapshotClass, driver: plan.driver, deletionPolicy: plan.deletionPolicy, temporaryClaimClass };
    if (plan.deletionPolicy === 'Retain') {
      found.warnings.push(
        `The VolumeSnapshotClass ${plan.snapshotClass} has deletionPolicy Retain: each backup leaves a VolumeSnapshotContent and the storage system's snapshot ` +
          'behind after its VolumeSnapshot is deleted. Delete them by hand (kubectl get volumesnapshotcontent), or ask for a class with deletionPolicy Delete.',
      );
    }
  } catch (e) {
    if (!(e instanceof StageError)) throw e;
    if (e.stage === 'snapshot') {
      found.value = { mode, kind: 'refused', reason: e.causeText, nextStep: e.nextStep };
      found.blocked.push(`A snapshot backup was asked for (nkvm.backup.consistency "snapshot"), but ${e.causeText}. ${e.nextStep}`);
    } else {
      found.blocked.push(`${e.causeText}. ${e.nextStep}`);
    }
  }
  return found;
}

/** The hooks a backup would run, from the same lookup the backup makes; a pre hook that cannot run and fails the backup blocks it. */
export function preflightHooks(pods: readonly V1Pod[], target: { namespace: string; pvc: string }, settings: BackupHookSettings | undefined): ReadFindings<BackupHooks> {
  const hooks = findBackupHooks(pods, target.namespace, target.pvc, settings);
  const found: ReadFindings<BackupHooks> = { value: hooks, blocked: [], warnings: [], notes: hooks.notes.map((n) => `Hooks: ${n}.`) };
  for (const h of [...hooks.pre, ...hooks.post]) {
    const where = `The ${h.phase} hook in ${h.namespace}/${h.pod || '(no pod)'} (${h.origin})`;
    if (h.problem) {
      // A pre hook with on-error Fail stops the backup before anything is read; any other failure is reported and the backup goes on.
      if (h.phase === 'pre' && h.onError === 'Fail') found.blocked.push(`${where} cannot run: ${h.problem}. With on-error Fail the backup stops at stage hook.`);
      else found.warnings.push(`${where} cannot run: ${h.problem}.`);
    }
    for (const w of h.warnings) found.warnings.push(`${where}: ${w}.`);
  }
  return found;
}
