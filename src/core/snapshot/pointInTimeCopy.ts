import type { CoreV1Api, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { StageError } from '../backup/backupStage';
import { leaseAnnotations, type HelperOwner } from '../backup/helperOwner';
import { labelValue, RUN_ID_LABEL } from '../backup/helperPodSpec';
import { describeKubeError } from '../kube/describeKubeError';
import { sleep, withKubeRetry } from '../kube/retryTransient';
import type { ConsistencyPlan } from './consistencyPlan';
import { SNAPSHOT_API_VERSION, SNAPSHOT_GROUP, type SnapshotApi, type VolumeSnapshot } from './snapshotApi';
import { SNAPSHOT_CLAIM_COMPONENT, SNAPSHOT_COMPONENT, snapshotObjectLabels } from './snapshotLabels';
import { largerQuantity } from './storageSize';

type SnapshotPlan = Extract<ConsistencyPlan, { kind: 'snapshot' }>;

export interface PointInTimeInput {
  namespace: string;
  pvc: string;
  runId: string;
  plan: SnapshotPlan;
  owner: HelperOwner;
  /** How long others must leave the snapshot and its claim alone when no helper of this run holds a lease. */
  leaseSeconds: number;
  /** Bound on readyToUse and on the temporary claim's provisioning. */
  timeoutSeconds: number;
  /** Storage class of the temporary claim; default: the source claim's. */
  storageClass?: string;
}

/** The same wait, with the backoff the helper's wait uses. */
const POLL_START_MS = 200;
const POLL_MAX_MS = 2000;
/** How long an error in a snapshot's status must stand before the backup gives up on it. */
const ERROR_GRACE_MS = 15_000;
/** How long cleanup waits for the temporary claim and the snapshot to be gone. */
const GONE_TIMEOUT_MS = 60_000;

/**
 * A VolumeSnapshot of the claim and the temporary claim provisioned from it, which the helper reads
 * instead of the live volume: one instant of the volume, with no node pinning and no Multi-Attach
 * with the workload. Both carry nkvm's labels and a lease, so a run that dies leaves them findable.
 */
export class PointInTimeCopy {
  /** `creationTime` of the snapshot: the instant the archive shows. */
  snapshotAt: string | undefined;
  claimName: string | undefined;
  readonly warnings: string[] = [];

  private constructor(
    private readonly core: CoreV1Api,
    private readonly snapshots: SnapshotApi,
    private readonly input: PointInTimeInput,
    readonly snapshotName: string,
  ) {}

  /** Cuts the snapshot: from here on the application may go on writing (post hooks run next). */
  static async cut(core: CoreV1Api, snapshots: SnapshotApi, input: PointInTimeInput): Promise<PointInTimeCopy> {
    const { namespace, pvc, plan } = input;
    const body: VolumeSnapshot = {
      apiVersion: SNAPSHOT_API_VERSION,
      kind: 'VolumeSnapshot',
      metadata: {
        generateName: generatedName(pvc),
        namespace,
        labels: snapshotObjectLabels(SNAPSHOT_COMPONENT, input.runId, pvc),
        annotations: leaseAnnotations(input.owner, input.leaseSeconds),
      },
      spec: { source: { persistentVolumeClaimName: pvc }, volumeSnapshotClassName: plan.snapshotClass },
    };
    let created: VolumeSnapshot;
    try {
      created = await snapshots.create(namespace, body);
    } catch (e) {
      const d = describeKubeError(e);
      throw new StageError(
        'snapshot',
        `could not create a VolumeSnapshot of "${pvc}": ${d.message}`,
        d.kind === 'forbidden'
          ? `Grant create, get and delete on volumesnapshots.${SNAPSHOT_GROUP} through the RoleBinding nkvm-runtime in "${namespace}" (deploy/k8s/rbac), or back up live (nkvm.backup.consistency "live").`
          : `Check the namespace's quota for VolumeSnapshots and the class ${plan.snapshotClass} (kubectl get volumesnapshotclass ${plan.snapshotClass} -o yaml), or back up live.`,
      );
    }
    const copy = new PointInTimeCopy(core, snapshots, input, created.metadata.name!);
    if (plan.deletionPolicy === 'Retain') {
      copy.warnings.push(`The VolumeSnapshotClass ${plan.snapshotClass} has deletionPolicy Retain: deleting the snapshot leaves its VolumeSnapshotContent and the storage system's snapshot behind (kubectl get volumesnapshotcontent).`);
    }
    return copy;
  }

  /**
   * Waits until the storage system has taken the snapshot (`status.creationTime`, the instant the archive
   * will show), not until it is uploaded: the application's post hooks may run from then on. A snapshot
   * controller takes it after the object is created, so letting the application go earlier would make the
   * "point in time" one where it writes again.
   */
  async waitCut(signal?: AbortSignal): Promise<void> {
    await this.poll('taken', (status) => status?.creationTime !== undefined, signal);
  }

  /** Waits for `readyToUse`; an error the controller keeps reporting ends the wait. */
  async waitReady(signal?: AbortSignal): Promise<void> {
    const snapshot = await this.poll('ready to use', (status) => status?.readyToUse === true, signal);
    this.snapshotAt = snapshot.status?.creationTime ?? snapshot.metadata.creationTimestamp;
    this.restoreSize = snapshot.status?.restoreSize;
  }

  /**
   * Polls the snapshot until `done`. The snapshot controller retries what fails and records each failure
   * in `status.error` (a conflict on its own update clears at the next try), so an error ends the wait only
   * once it has stood for {@link ERROR_GRACE_MS}, or at the timeout, where it is quoted.
   */
  private async poll(what: string, done: (status: VolumeSnapshot['status']) => boolean, signal?: AbortSignal): Promise<VolumeSnapshot> {
    const { namespace } = this.input;
    const deadline = Date.now() + this.input.timeoutSeconds * 1000;
    let errorSince: number | undefined;
    for (let delay = POLL_START_MS; ; delay = Math.min(delay * 1.5, POLL_MAX_MS)) {
      signal?.throwIfAborted();
      let snapshot: VolumeSnapshot;
      try {
        snapshot = await withKubeRetry(() => this.snapshots.get(namespace, this.snapshotName), { signal });
      } catch (e) {
        throw new StageError('snapshot', `could not read the VolumeSnapshot ${this.snapshotName}: ${describeKubeError(e).message}`, `Check the get permission on volumesnapshots in "${namespace}" and the connection, then back up again.`);
      }
      const status = snapshot.status;
      if (done(status)) return snapshot;
      const error = status?.error?.message;
      errorSince = error ? (errorSince ?? Date.now()) : undefined;
      if (error && (Date.now() - errorSince! >= Math.min(ERROR_GRACE_MS, this.input.timeoutSeconds * 1000) || Date.now() > deadline)) {
        throw new StageError('snapshot', `the VolumeSnapshot ${this.snapshotName} failed: ${error}`, snapshotNextStep(namespace, this.snapshotName));
      }
      if (Date.now() > deadline) {
        throw new StageError(
          'snapshot',
          `the VolumeSnapshot ${this.snapshotName} was not ${what} after ${this.input.timeoutSeconds} s${status?.boundVolumeSnapshotContentName ? '' : ' (no VolumeSnapshotContent was bound to it)'}`,
          `${snapshotNextStep(namespace, this.snapshotName)} A first snapshot of a large volume can take longer: raise nkvm.backup.snapshotTimeoutSeconds.`,
        );
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now()) + 10), signal);
    }
  }

  private restoreSize: string | undefined;

  /**
   * Creates the temporary claim from the snapshot, at least the snapshot's restoreSize, in the source
   * claim's storage class, ReadOnlyMany where the source is shared (its driver attaches volumes to
   * several nodes) else ReadWriteOnce. Waits until it is bound, or until the class says it binds for
   * its first consumer (the helper).
   */
  async createClaim(signal?: AbortSignal): Promise<string> {
    const { namespace, pvc, plan } = this.input;
    const source = plan.claim;
    const size = largerQuantity(this.restoreSize, source.status?.capacity?.storage ?? source.spec?.resources?.requests?.storage);
    const shared = (source.spec?.accessModes ?? []).some((m) => m === 'ReadOnlyMany' || m === 'ReadWriteMany');
    const body: V1PersistentVolumeClaim = {
      metadata: {
        generateName: generatedName(pvc),
        namespace,
        labels: snapshotObjectLabels(SNAPSHOT_CLAIM_COMPONENT, this.input.runId, pvc),
        annotations: leaseAnnotations(this.input.owner, this.input.leaseSeconds),
      },
      spec: {
        accessModes: [shared ? 'ReadOnlyMany' : 'ReadWriteOnce'],
        storageClassName: this.input.storageClass ?? source.spec?.storageClassName,
        resources: { requests: size ? { storage: size } : {} },
        dataSource: { apiGroup: SNAPSHOT_GROUP, kind: 'VolumeSnapshot', name: this.snapshotName },
      },
    };
    try {
      this.claimName = (await this.core.createNamespacedPersistentVolumeClaim({ namespace, body })).metadata!.name!;
    } catch (e) {
      const d = describeKubeError(e);
      throw new StageError(
        'clone',
        `could not create the temporary claim from the snapshot: ${d.message}`,
        d.kind === 'forbidden'
          ? `Grant create and delete on persistentvolumeclaims through the RoleBinding nkvm-runtime in "${namespace}", and check the namespace's quota (kubectl -n ${namespace} describe resourcequota).`
          : `Check the namespace's storage quota and the storage class ${body.spec!.storageClassName ?? '(default)'}, or back up live (nkvm.backup.consistency "live").`,
      );
    }
    await this.waitProvisioned(signal);
    return this.claimName;
  }

  private async waitProvisioned(signal?: AbortSignal): Promise<void> {
    const { namespace } = this.input;
    const name = this.claimName!;
    const deadline = Date.now() + this.input.timeoutSeconds * 1000;
    for (let delay = POLL_START_MS; ; delay = Math.min(delay * 1.5, POLL_MAX_MS)) {
      signal?.throwIfAborted();
      const claim = await withKubeRetry(() => this.core.readNamespacedPersistentVolumeClaim({ name, namespace }), { signal });
      if (claim.status?.phase === 'Bound') return;
      const events = await claimEvents(this.core, namespace, name);
      // Bound once the helper, its first consumer, is scheduled.
      if (events.some((e) => e.reason === 'WaitForFirstConsumer')) return;
      if (Date.now() > deadline) {
        // The provisioner retries and records each failed try: the latest says why it is still not bound.
        const failed = events.filter((e) => e.reason === 'ProvisioningFailed').at(-1);
        const why = failed ? `could not be provisioned from the snapshot: ${failed.message}` : `was not bound after ${this.input.timeoutSeconds} s`;
        throw new StageError('clone', `the temporary claim ${name} ${why}`, cloneNextStep(namespace, name), events.map(eventLine));
      }
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now()) + 10), signal);
    }
  }

  /**
   * Deletes the temporary claim (after the helper is gone) and the snapshot, on success, failure and
   * cancel alike, and waits until the API server no longer has them. Returns what could not be removed.
   */
  async remove(): Promise<StageError | undefined> {
    const { namespace } = this.input;
    const problems: string[] = [];
    if (this.claimName) {
      const name = this.claimName;
      await removeObject(
        () => this.core.deleteNamespacedPersistentVolumeClaim({ name, namespace }),
        () => this.core.readNamespacedPersistentVolumeClaim({ name, namespace }),
      ).catch((e) => problems.push(`the temporary claim ${name}: ${(e as Error).message}`));
    }
    await removeObject(
      () => this.snapshots.delete(namespace, this.snapshotName),
      () => this.snapshots.get(namespace, this.snapshotName),
    ).catch((e) => problems.push(`the VolumeSnapshot ${this.snapshotName}: ${(e as Error).message}`));
    if (!problems.length) return undefined;
    return new StageError(
      'cleanup',
      `could not remove ${problems.join('; ')}`,
      `See what holds them (kubectl -n ${namespace} describe volumesnapshot,pvc -l ${RUN_ID_LABEL}=${labelValue(this.input.runId)}: a finalizer, or a pod that still mounts the claim); ` +
        `once nothing does, delete them (the same selector with kubectl delete) or use "Remove Leftover Helper Pods..." (nkvm cleanup).`,
    );
  }
}

async function removeObject(remove: () => Promise<unknown>, read: () => Promise<unknown>): Promise<void> {
  try {
    await withKubeRetry(remove);
  } catch (e) {
    const d = describeKubeError(e);
    if (d.kind === 'notFound') return;
    throw new Error(d.message);
  }
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  for (let delay = 100; ; delay = Math.min(delay * 1.5, POLL_MAX_MS)) {
    try {
      await withKubeRetry(read);
    } catch (e) {
      const d = describeKubeError(e);
      if (d.kind === 'notFound') return;
      throw new Error(`could not check that it is gone: ${d.message}`);
    }
    if (Date.now() > deadline) throw new Error(`still there ${GONE_TIMEOUT_MS / 1000} s after it was deleted (a finalizer holds it)`);
    await sleep(delay);
  }
}

interface ClaimEvent {
  type?: string;
  reason?: string;
  message?: string;
}

async function claimEvents(core: CoreV1Api, namespace: string, name: string): Promise<ClaimEvent[]> {
  try {
    const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${name}` });
    return list.items.map((e) => ({ type: e.type, reason: e.reason, message: e.message }));
  } catch {
    // Events explain; a claim that binds needs none of them.
    return [];
  }
}

const eventLine = (e: ClaimEvent): string => `${e.type ?? 'Normal'} ${e.reason ?? ''}: ${e.message ?? ''}`;

function snapshotNextStep(namespace: string, name: string): string {
  return `Read the snapshot's status and events (kubectl -n ${namespace} describe volumesnapshot ${name}) and its VolumeSnapshotContent, check the CSI driver's snapshotter, or back up live (nkvm.backup.consistency "live").`;
}

function cloneNextStep(namespace: string, name: string): string {
  return `Read the claim's events (kubectl -n ${namespace} describe pvc ${name}), check the namespace's storage quota and the storage class, or back up live (nkvm.backup.consistency "live").`;
}

/** `nkvm-snap-<pvc>-` cut so the generated name stays a valid label value and DNS name. */
function generatedName(pvc: string): string {
  return `${`nkvm-snap-${pvc}`.slice(0, 52).replace(/[-.]+$/, '')}-`;
}
