import type { V1Container, V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { KubeObject, ObjectStore } from '../api/objectStore';
import { FaultRegistry } from '../faults';
import { EventRecorder } from './eventRecorder';
import { Provisioner } from './provisioner';
import { scheduleOnto } from './scheduler';
import { types } from './types';
import { VolumeData } from './volumeData';

export interface LifecycleTiming {
  /** Delay between the steps a kubelet takes (schedule, pull, start). */
  stepMs: number;
  /** How long a container takes to stop after SIGTERM (the grace period caps it). */
  stopMs: number;
}

interface PodState {
  timers: Set<NodeJS.Timeout>;
  sessions: Set<AbortController>;
  /** Scheduled, but its ReadWriteOnce volume is still attached to another node. */
  waitingForAttach: boolean;
}

const ignoresSigterm = 'sandbox.nkvm.dev/ignores-sigterm';

/** Plays kube-scheduler and kubelet for pods: scheduling, volume attach, image pull, start, deadlines, graceful deletion. */
export class PodLifecycle {
  private readonly pods = new Map<string, PodState>();
  private reconcileQueued = false;
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly faults: FaultRegistry,
    private readonly events: EventRecorder,
    private readonly provisioner: Provisioner,
    private readonly data: VolumeData,
    private readonly timing: LifecycleTiming,
  ) {
    // Pods waiting for a claim, a node or a volume detach are retried when anything they depend on changes.
    store.subscribe((e) => {
      if (e.resource === types.events) return;
      if (e.resource === types.pods && e.type !== 'DELETED') return;
      this.queueReconcile();
    });
  }

  stop(): void {
    this.stopped = true;
    for (const state of this.pods.values()) {
      for (const t of state.timers) clearTimeout(t);
      for (const s of state.sessions) s.abort();
    }
    this.pods.clear();
  }

  /** Defaults the API server fills in on create. */
  admit(pod: KubeObject): void {
    const spec = (pod.spec ?? {}) as Record<string, unknown>;
    spec.restartPolicy ??= 'Always';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.schedulerName ??= 'default-scheduler';
    spec.serviceAccountName ??= 'default';
    spec.securityContext ??= {};
    pod.spec = spec;
    pod.status = { phase: 'Pending', qosClass: 'BestEffort' };
  }

  created(pod: KubeObject): void {
    this.pods.set(pod.metadata.uid!, { timers: new Set(), sessions: new Set(), waitingForAttach: false });
    this.after(pod, this.timing.stepMs, () => this.trySchedule(pod.metadata.namespace!, pod.metadata.name!));
  }

  /** An exec session bound to the pod's life: aborted when the pod stops. */
  openSession(pod: KubeObject): AbortController {
    const controller = new AbortController();
    const state = this.pods.get(pod.metadata.uid!);
    if (!state) controller.abort();
    else {
      state.sessions.add(controller);
      controller.signal.addEventListener('abort', () => state.sessions.delete(controller));
    }
    return controller;
  }

  remove(namespace: string, name: string, gracePeriodSeconds: number | undefined): KubeObject {
    const pod = this.store.get(types.pods, namespace, name)!;
    const grace = gracePeriodSeconds ?? ((pod.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30);
    const unscheduled = !(pod.spec as { nodeName?: string }).nodeName;
    if (grace <= 0 || unscheduled) return this.finalize(pod);
    if (pod.metadata.deletionTimestamp) return pod;
    const marked = this.store.mutate(types.pods, namespace, name, (o) => {
      o.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      o.metadata.deletionGracePeriodSeconds = grace;
    })!;
    this.events.record(marked, 'Normal', 'Killing', `Stopping container ${containerNames(marked)[0] ?? 'main'}`, 'kubelet');
    this.stopSessions(marked);
    const stopMs = pod.metadata.annotations?.[ignoresSigterm] === 'true' ? grace * 1000 : Math.min(this.timing.stopMs, grace * 1000);
    this.after(marked, stopMs, () => {
      const current = this.store.get(types.pods, namespace, name);
      if (current && current.metadata.uid === marked.metadata.uid) this.finalize(current);
    });
    return marked;
  }

  private finalize(pod: KubeObject): KubeObject {
    this.stopSessions(pod);
    const state = this.pods.get(pod.metadata.uid!);
    if (state) for (const t of state.timers) clearTimeout(t);
    this.pods.delete(pod.metadata.uid!);
    this.data.removePodData(pod.metadata.uid!);
    return this.store.remove(types.pods, pod.metadata.namespace, pod.metadata.name!);
  }

  private stopSessions(pod: KubeObject): void {
    const state = this.pods.get(pod.metadata.uid!);
    if (state) for (const s of [...state.sessions]) s.abort();
  }

  private after(pod: KubeObject, ms: number, fn: () => void): void {
    const state = this.pods.get(pod.metadata.uid!);
    if (!state || this.stopped) return;
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    state.timers.add(timer);
  }

  private queueReconcile(): void {
    if (this.reconcileQueued || this.stopped) return;
    this.reconcileQueued = true;
    setTimeout(() => {
      this.reconcileQueued = false;
      for (const pod of this.store.list(types.pods)) {
        const p = pod as unknown as V1Pod;
        if (p.metadata?.deletionTimestamp || p.status?.phase !== 'Pending' || !this.pods.has(p.metadata!.uid!)) continue;
        if (!p.spec?.nodeName) this.trySchedule(p.metadata!.namespace!, p.metadata!.name!);
        else if (this.pods.get(p.metadata!.uid!)?.waitingForAttach) this.tryStart(p.metadata!.namespace!, p.metadata!.name!);
      }
    }, this.timing.stepMs);
  }

  private trySchedule(namespace: string, name: string): void {
    const obj = this.store.get(types.pods, namespace, name);
    const pod = obj as unknown as V1Pod | undefined;
    if (!obj || !pod || pod.spec?.nodeName || pod.metadata?.deletionTimestamp) return;
    const claims = claimNames(pod);
    for (const claim of claims) {
      const pvc = this.store.get(types.pvcs, namespace, claim);
      if (!pvc) return this.unschedulable(obj, `persistentvolumeclaim "${claim}" not found`);
      if (!this.provisioner.isBound(namespace, claim) && !this.provisioner.waitsForConsumer(namespace, claim)) {
        return this.unschedulable(obj, 'pod has unbound immediate PersistentVolumeClaims');
      }
    }
    const fault = this.faults.forPod('unschedulable', obj);
    if (fault) return this.unschedulable(obj, fault.message ?? `0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.`, true);
    const rwop = claims.find((c) => this.accessModes(namespace, c).includes('ReadWriteOncePod') && this.usersOf(namespace, c, pod).length > 0);
    if (rwop) {
      return this.unschedulable(obj, `0/${this.nodes().length} nodes are available: ${this.nodes().length} node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod. preemption: not eligible due to a pod with the same PersistentVolumeClaim with ReadWriteOncePod access mode.`, true);
    }
    const pinned = this.volumeNodeAffinity(namespace, claims);
    const result = scheduleOnto(pod, this.nodes(), (node) => (pinned && !pinned.includes(node) ? "node(s) had volume node affinity conflict" : undefined));
    if ('message' in result) return this.unschedulable(obj, result.message, true);
    for (const claim of claims) if (this.provisioner.waitsForConsumer(namespace, claim)) this.provisioner.bindForConsumer(namespace, claim, result.node);
    const scheduled = this.store.mutate(types.pods, namespace, name, (o) => {
      (o.spec as Record<string, unknown>).nodeName = result.node;
      const status = o.status as Record<string, unknown>;
      status.conditions = upsertCondition(status.conditions as V1PodCondition[] | undefined, { type: 'PodScheduled', status: 'True' });
    })!;
    this.events.record(scheduled, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${result.node}`, 'default-scheduler');
    this.after(scheduled, this.timing.stepMs, () => this.tryStart(namespace, name));
  }

  private unschedulable(pod: KubeObject, message: string, whole = false): void {
    const full = whole ? message : `0/${this.nodes().length} nodes are available: ${message}. preemption: 0/${this.nodes().length} nodes are available: ${this.nodes().length} Preemption is not helpful for scheduling.`;
    const current = (pod.status as { conditions?: V1PodCondition[] }).conditions?.find((c) => c.type === 'PodScheduled');
    if (current?.message === full) return;
    const updated = this.store.mutate(types.pods, pod.metadata.namespace, pod.metadata.name!, (o) => {
      const status = o.status as Record<string, unknown>;
      status.conditions = upsertCondition(status.conditions as V1PodCondition[] | undefined, { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: full });
    });
    if (updated) this.events.record(updated, 'Warning', 'FailedScheduling', full, 'default-scheduler');
  }

  private tryStart(namespace: string, name: string): void {
    const obj = this.store.get(types.pods, namespace, name);
    const pod = obj as unknown as V1Pod | undefined;
    if (!obj || !pod?.spec?.nodeName || pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Pending') return;
    const node = pod.spec.nodeName;
    for (const claim of claimNames(pod)) {
      const modes = this.accessModes(namespace, claim);
      if (!modes.includes('ReadWriteOnce')) continue;
      const elsewhere = this.usersOf(namespace, claim, pod).filter((u) => u.spec?.nodeName && u.spec.nodeName !== node);
      if (elsewhere.length) {
        const pv = (this.store.get(types.pvcs, namespace, claim)?.spec as { volumeName?: string }).volumeName;
        const state = this.pods.get(pod.metadata!.uid!);
        if (state) state.waitingForAttach = true;
        const updated = this.store.mutate(types.pods, namespace, name, (o) => {
          (o.status as Record<string, unknown>).containerStatuses = containers(pod).map((c) => waitingStatus(c, 'ContainerCreating'));
        })!;
        this.events.record(updated, 'Warning', 'FailedAttachVolume', `Multi-Attach error for volume "${pv}" Volume is already used by pod(s) ${elsewhere.map((u) => u.metadata!.name).join(', ')}`, 'attachdetach-controller');
        return;
      }
    }
    const state = this.pods.get(pod.metadata!.uid!);
    if (state?.waitingForAttach) {
      state.waitingForAttach = false;
      this.events.record(obj, 'Normal', 'SuccessfulAttachVolume', `AttachVolume.Attach succeeded for volume "${claimNames(pod).join(', ')}"`, 'attachdetach-controller');
    }
    const image = containers(pod)[0]?.image ?? '';
    if (this.faults.forPod('imagePull', obj)) return this.failImagePull(obj, image);
    this.events.record(obj, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, 'kubelet');
    const now = stamp();
    const running = this.store.mutate(types.pods, namespace, name, (o) => {
      const nodeIndex = this.nodes().findIndex((n) => n.metadata?.name === node);
      o.status = {
        ...(o.status as object),
        phase: 'Running',
        hostIP: `10.0.0.${10 + nodeIndex}`,
        podIP: `10.244.${nodeIndex}.${2 + (Number(o.metadata.resourceVersion) % 250)}`,
        startTime: now,
        conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now })),
        containerStatuses: containers(pod).map((c) => ({
          name: c.name,
          image: c.image,
          imageID: `${c.image}@sha256:${'0'.repeat(64)}`,
          containerID: `containerd://${o.metadata.uid!.replace(/-/g, '')}`,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now } },
        })),
      };
    })!;
    for (const c of containers(pod)) {
      this.events.record(running, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet');
      this.events.record(running, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
    }
    const deadline = pod.spec.activeDeadlineSeconds;
    if (deadline) this.after(running, deadline * 1000, () => this.deadlineExceeded(namespace, name, running.metadata.uid!));
  }

  private failImagePull(pod: KubeObject, image: string): void {
    const reason = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`;
    this.events.record(pod, 'Normal', 'Pulling', `Pulling image "${image}"`, 'kubelet');
    this.events.record(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${reason}`, 'kubelet');
    this.events.record(pod, 'Warning', 'Failed', 'Error: ErrImagePull', 'kubelet');
    const p = pod as unknown as V1Pod;
    const setWaiting = (why: string, message: string): void => {
      this.store.mutate(types.pods, pod.metadata.namespace, pod.metadata.name!, (o) => {
        (o.status as Record<string, unknown>).containerStatuses = containers(p).map((c) => waitingStatus(c, why, message));
      });
    };
    setWaiting('ErrImagePull', reason);
    this.after(pod, this.timing.stepMs * 3, () => {
      this.events.record(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, 'kubelet');
      this.events.record(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff', 'kubelet');
      setWaiting('ImagePullBackOff', `Back-off pulling image "${image}": ErrImagePull: ${reason}`);
    });
  }

  private deadlineExceeded(namespace: string, name: string, uid: string): void {
    const current = this.store.get(types.pods, namespace, name);
    if (!current || current.metadata.uid !== uid || current.metadata.deletionTimestamp) return;
    this.stopSessions(current);
    const now = stamp();
    const failed = this.store.mutate(types.pods, namespace, name, (o) => {
      const status = o.status as Record<string, unknown>;
      status.phase = 'Failed';
      status.reason = 'DeadlineExceeded';
      status.message = 'Pod was active on the node longer than the specified deadline';
      status.conditions = ((status.conditions as V1PodCondition[]) ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'PodFailed' } : c));
      status.containerStatuses = ((status.containerStatuses as object[]) ?? []).map((c) => ({
        ...c,
        ready: false,
        started: false,
        state: { terminated: { exitCode: 137, reason: 'Error', startedAt: status.startTime, finishedAt: now } },
      }));
    })!;
    this.events.record(failed, 'Warning', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline', 'kubelet');
  }

  private nodes(): V1Node[] {
    return this.store.list(types.nodes) as unknown as V1Node[];
  }

  private accessModes(namespace: string, claim: string): string[] {
    const pvc = this.store.get(types.pvcs, namespace, claim) as unknown as V1PersistentVolumeClaim | undefined;
    return pvc?.status?.accessModes ?? pvc?.spec?.accessModes ?? [];
  }

  /** Other live pods that mount the claim and have a node. */
  private usersOf(namespace: string, claim: string, self: V1Pod): V1Pod[] {
    return (this.store.list(types.pods, namespace) as unknown as V1Pod[]).filter(
      (p) =>
        p.metadata?.uid !== self.metadata?.uid &&
        !!p.spec?.nodeName &&
        p.status?.phase !== 'Succeeded' &&
        p.status?.phase !== 'Failed' &&
        claimNames(p).includes(claim),
    );
  }

  /** Nodes allowed by the bound volumes' node affinity (local volumes and WaitForFirstConsumer bindings). */
  private volumeNodeAffinity(namespace: string, claims: string[]): string[] | undefined {
    let allowed: string[] | undefined;
    for (const claim of claims) {
      const pvName = (this.store.get(types.pvcs, namespace, claim)?.spec as { volumeName?: string } | undefined)?.volumeName;
      const pv = pvName ? (this.store.get(types.pvs, undefined, pvName) as unknown as V1PersistentVolume | undefined) : undefined;
      const values = pv?.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.find((e) => e.key === 'kubernetes.io/hostname')?.values;
      if (values) allowed = allowed ? allowed.filter((n) => values.includes(n)) : values;
    }
    return allowed;
  }
}

export function claimNames(pod: V1Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
}

function containers(pod: V1Pod): V1Container[] {
  return pod.spec?.containers ?? [];
}

function containerNames(pod: KubeObject): string[] {
  return containers(pod as unknown as V1Pod).map((c) => c.name);
}

function waitingStatus(c: V1Container, reason: string, message?: string): object {
  return { name: c.name, image: c.image, imageID: '', ready: false, started: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } } };
}

function upsertCondition(conditions: V1PodCondition[] | undefined, next: Partial<V1PodCondition> & { type: string; status: string }): V1PodCondition[] {
  const now = stamp();
  const rest = (conditions ?? []).filter((c) => c.type !== next.type);
  return [...rest, { lastProbeTime: null, lastTransitionTime: now, ...next } as unknown as V1PodCondition];
}

function stamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
