import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { BackupHookSettings } from '../config/backupHookSettings';
import type { BackupConsistency } from '../history/historyRecord';
import type { ConsistencyMode } from '../snapshot/consistencyMode';
import { planConsistency } from '../snapshot/consistencyPlan';
import { PointInTimeCopy } from '../snapshot/pointInTimeCopy';
import { SnapshotApi } from '../snapshot/snapshotApi';
import { BackupHookRunner } from './backupHookRunner';
import type { BackupStage, StageError } from './backupStage';
import { defaultHelperOwner, type HelperOwner } from './helperOwner';
import { DEFAULT_LEASE_SECONDS } from './helperPodSpec';

export const DEFAULT_SNAPSHOT_TIMEOUT_SECONDS = 300;

/** How a backup read its volume, as the result and the history record it. */
export interface ReadFacts {
  consistency?: BackupConsistency;
  /** Why auto read live. */
  consistencyNote?: string;
  snapshotName?: string;
  snapshotAt?: string;
}

export interface BackupSourceSettings {
  consistency?: ConsistencyMode;
  snapshotTimeoutSeconds?: number;
  snapshotStorageClass?: string;
  hooks?: BackupHookSettings;
  helperOwner?: HelperOwner;
  helperPodTimeoutSeconds: number;
  leaseSeconds?: number;
}

/**
 * What the helper reads for one backup, and what goes around it: the application's pre hooks, then the
 * claim itself (live) or a temporary claim made from a VolumeSnapshot of it cut right after the pre hooks,
 * with the post hooks right after the cut. {@link close} lets the application go (if it has not yet) and
 * removes the temporary claim and the snapshot, whatever happened.
 */
export class BackupSource {
  /** The claim the helper mounts. */
  claim: string;
  copy: PointInTimeCopy | undefined;
  hooks: BackupHookRunner | undefined;
  readonly read: ReadFacts = {};

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly target: { namespace: string; pvc: string },
    private readonly runId: string,
    private readonly settings: BackupSourceSettings,
  ) {
    this.claim = target.pvc;
  }

  /** Decides how to read, runs the pre hooks and, for a snapshot, cuts it, lets the application go and provisions the temporary claim. */
  async open(report: (stage: BackupStage) => void, signal?: AbortSignal): Promise<void> {
    const { namespace, pvc } = this.target;
    const mode = this.settings.consistency ?? 'auto';
    const snapshots = new SnapshotApi(this.kubeConfig);
    const plan = await planConsistency(this.core, snapshots, namespace, pvc, mode);
    // Decided before the application is held: a claim that cannot be read as asked fails without freezing anything.
    this.hooks = await BackupHookRunner.plan(this.kubeConfig, this.core, namespace, pvc, this.settings.hooks);
    if (this.hooks) {
      report('hook');
      await this.hooks.runPre(signal);
    }
    if (plan.kind !== 'snapshot') {
      Object.assign(this.read, { consistency: 'live', consistencyNote: mode === 'auto' ? plan.reason : undefined });
      return;
    }
    report('snapshot');
    const timeoutSeconds = this.settings.snapshotTimeoutSeconds ?? DEFAULT_SNAPSHOT_TIMEOUT_SECONDS;
    this.copy = await PointInTimeCopy.cut(this.core, snapshots, {
      namespace,
      pvc,
      runId: this.runId,
      plan,
      owner: this.settings.helperOwner ?? defaultHelperOwner(),
      // Nobody renews it: it must outlive the waits before this run's helper holds a lease of its own.
      leaseSeconds: 2 * timeoutSeconds + this.settings.helperPodTimeoutSeconds + (this.settings.leaseSeconds ?? DEFAULT_LEASE_SECONDS),
      timeoutSeconds,
      storageClass: this.settings.snapshotStorageClass || undefined,
    });
    Object.assign(this.read, { consistency: 'snapshot', snapshotName: this.copy.snapshotName });
    if (this.hooks) {
      // Once the storage system has taken the snapshot, the application goes on: not after the copy.
      await this.copy.waitCut(signal);
      report('hook');
      await this.hooks.runPost();
      report('snapshot');
    }
    await this.copy.waitReady(signal);
    this.read.snapshotAt = this.copy.snapshotAt;
    report('clone');
    this.claim = await this.copy.createClaim(signal);
  }

  /** The claim being backed up, when the helper reads a copy of it. */
  get copyOf(): string | undefined {
    return this.copy ? this.target.pvc : undefined;
  }

  /** Lets the application go after a live read (post hooks); a snapshot's already ran after the cut. */
  async readDone(): Promise<void> {
    await this.hooks?.runPost();
  }

  warnings(): string[] {
    return [...(this.copy?.warnings ?? []), ...(this.hooks?.warnings(this.read.consistency) ?? [])];
  }

  /** A backup whose archive is whole but whose post hook (onError Fail) failed, as Velero's PartiallyFailed. */
  partialOutcome(): { message: string; nextStep: string } | undefined {
    const failure = this.hooks?.postFailure;
    if (!failure) return undefined;
    return { message: `The archive is complete, but the post hook in ${failure.hook.namespace}/${failure.hook.pod} failed: ${failure.message}`, nextStep: `Check that the application resumed; ${failure.nextStep}.` };
  }

  /** Post hooks if they have not run (failure, cancel); then, once the helper is gone, the temporary claim and the snapshot. */
  async close(): Promise<StageError | undefined> {
    await this.hooks?.runPost();
    return this.copy?.remove();
  }
}
