import { createHash } from 'node:crypto';
import type { V1Container, V1Node, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { KubeObject, ObjectStore } from '../api/objectStore';
import { CpuLimits } from '../exec/cpuLimit';
import { FaultRegistry } from '../faults';
import { ContainerExit, ContainerProcess } from './containerProcess';
import { containerProcessBase, mainCommand } from './containerSpec';
import { EventRecorder } from './eventRecorder';
import { exitAfterReboot, NodeKubelet, NodeLost } from './nodeOutage';
import { Provisioner } from './provisioner';
import { scheduleOnto } from './scheduler';
import { types } from './types';
import { VolumeData } from './volumeData';
import { applyFsGroup } from './volumeOwnership';

export interface LifecycleTiming {
  /** Delay between the steps a kubelet takes (schedule, pull, start). */
  stepMs: number;
  /** The kubelet's first restart back-off (10 s on a real node), doubled at each further restart up to 5 minutes. */
  backoffMs: number;
}

interface PodState {
  uid: string;
  namespace: string;
  name: string;
  claims: string[];
  node?: string;
  timers: Set<NodeJS.Timeout>;
  /** Exec'd commands, by the container they run in. */
  sessions: Map<AbortController, string>;
  /** Main processes of the containers that run now. */
  running: Map<string, ContainerProcess>;
  restarts: Map<string, number>;
  /** Scheduled, but its ReadWriteOnce volume is still attached to another node. */
  waitingForAttach: boolean;
  /** Containers are being stopped (deletion or deadline): none restarts. */
  stopping: boolean;
  /** The object goes once its containers are gone (graceful deletion). */
  removeWhenStopped: boolean;
  /** Its processes are gone and its volumes detached. */
  released: boolean;
  /** Containers that died with their node, reported once it is back. */
  lostWithNode: { container: V1Container; exit: ContainerExit }[];
}

/** The kubelet never gives a container less than this to stop, even for a forced deletion (minimumGracePeriodInSeconds). */
const MIN_KILL_GRACE_MS = 2_000;
const MAX_BACKOFF_MS = 300_000;

/**
 * Plays kube-scheduler and kubelet for pods: scheduling, volume attach, image pull, running each
 * container's command as its main process, restarts, deadlines, graceful deletion. A pod holds its
 * ReadWriteOnce volumes on its node until its processes are gone.
 */
export class PodLifecycle implements NodeKubelet {
  private readonly pods = new Map<string, PodState>();
  /** Nodes whose kubelet is away: nothing there is reported or released until it returns. */
  private readonly lostNodes = new Set<string>();
  private reconcileQueued = false;
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly faults: FaultRegistry,
    private readonly events: EventRecorder,
    private readonly provisioner: Provisioner,
    private readonly data: VolumeData,
    private readonly cgroups: CpuLimits,
    private readonly timing: LifecycleTiming,
  ) {
    // Pods waiting for a claim, a node or a volume detach are retried when anything they depend on changes.
    store.subscribe((e) => {
      if (e.resource === types.events) return;
      if (e.resource === types.pods && e.type !== 'DELETED') return;
      this.queueReconcile();
    });
  }

  /** Kills every container and exec'd command; resolves once their processes are gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    const exits: Promise<unknown>[] = [];
    for (const state of this.pods.values()) {
      for (const t of state.timers) clearTimeout(t);
      for (const s of state.sessions.keys()) s.abort();
      for (const c of state.running.values()) {
        c.kill();
        exits.push(c.exited);
      }
    }
    this.pods.clear();
    await Promise.all(exits);
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
    const uid = pod.metadata.uid!;
    this.pods.set(uid, {
      uid,
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name!,
      claims: claimNames(pod as unknown as V1Pod),
      timers: new Set(),
      sessions: new Map(),
      running: new Map(),
      restarts: new Map(),
      waitingForAttach: false,
      stopping: false,
      removeWhenStopped: false,
      released: false,
      lostWithNode: [],
    });
    this.after(pod, this.timing.stepMs, () => this.trySchedule(pod.metadata.namespace!, pod.metadata.name!));
  }

  /** The main processes of the running containers of pods that mount this claim. */
  processesMounting(namespace: string, claim: string): number[] {
    return [...this.pods.values()]
      .filter((s) => s.namespace === namespace && s.claims.includes(claim))
      .flatMap((s) => [...s.running.values()].map((c) => c.pid).filter((pid): pid is number => pid !== undefined));
  }

  /**
   * An exec'd command's tie to its container: aborted when the container stops, as its processes die
   * with the container's PID namespace. Undefined when the container is not running, where the kubelet
   * answers `container not found`.
   */
  openSession(pod: KubeObject, container: string): AbortController | undefined {
    const state = this.pods.get(pod.metadata.uid!);
    if (!state || !state.running.get(container)?.running) return undefined;
    const controller = new AbortController();
    state.sessions.set(controller, container);
    controller.signal.addEventListener('abort', () => {
      state.sessions.delete(controller);
      this.releaseIfDone(state);
    });
    return controller;
  }

  /** The node went away: exec streams break, its containers die, and no status says so. */
  nodeLost(node: string, reason: NodeLost): void {
    this.lostNodes.add(node);
    for (const state of this.pods.values()) {
      if (state.node !== node) continue;
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      for (const s of state.sessions.keys()) s.abort(reason);
      for (const c of state.running.values()) c.kill();
    }
  }

  /** The kubelet is back: it reports the containers it lost, starts what waited, finishes what was deleted. */
  nodeReturned(node: string): void {
    this.lostNodes.delete(node);
    for (const state of [...this.pods.values()]) {
      if (state.node !== node) continue;
      const lost = state.lostWithNode.splice(0);
      const policy = (this.current(state)?.spec as { restartPolicy?: string } | undefined)?.restartPolicy ?? 'Always';
      for (const { container, exit } of lost) this.containerExited(state, container, undefined, exitAfterReboot(exit, policy));
      if (!lost.length && (this.current(state)?.status as { phase?: string } | undefined)?.phase === 'Pending') this.tryStart(state.namespace, state.name);
      this.releaseIfDone(state);
    }
  }

  isNodeLost(node: string | undefined): boolean {
    return !!node && this.lostNodes.has(node);
  }

  remove(namespace: string, name: string, gracePeriodSeconds: number | undefined): KubeObject {
    const pod = this.store.get(types.pods, namespace, name)!;
    const state = this.pods.get(pod.metadata.uid!);
    const grace = gracePeriodSeconds ?? ((pod.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30);
    const unscheduled = !(pod.spec as { nodeName?: string }).nodeName;
    if (!state || unscheduled || state.released) return this.finalize(pod);
    if (grace <= 0) {
      // The object goes at once; the kubelet still stops the containers, and the volumes stay until they are gone.
      for (const t of state.timers) clearTimeout(t);
      const removed = this.store.remove(types.pods, namespace, name);
      this.stopContainers(state, MIN_KILL_GRACE_MS);
      this.releaseIfDone(state);
      return removed;
    }
    if (pod.metadata.deletionTimestamp) return pod;
    const marked = this.store.mutate(types.pods, namespace, name, (o) => {
      o.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      o.metadata.deletionGracePeriodSeconds = grace;
    })!;
    if (state.running.size) this.events.record(marked, 'Normal', 'Killing', `Stopping container ${[...state.running.keys()].join(', ')}`, 'kubelet');
    state.removeWhenStopped = true;
    for (const t of state.timers) clearTimeout(t);
    state.timers.clear();
    this.stopContainers(state, Math.max(grace * 1000, MIN_KILL_GRACE_MS));
    // A pod with nothing running goes after one kubelet step.
    if (!state.running.size) this.after(marked, this.timing.stepMs, () => this.releaseIfDone(state));
    return marked;
  }

  private finalize(pod: KubeObject): KubeObject {
    const state = this.pods.get(pod.metadata.uid!);
    if (state) {
      for (const s of state.sessions.keys()) s.abort();
      for (const t of state.timers) clearTimeout(t);
      for (const c of state.running.values()) c.kill();
    }
    this.pods.delete(pod.metadata.uid!);
    this.data.removePodData(pod.metadata.uid!);
    return this.store.remove(types.pods, pod.metadata.namespace, pod.metadata.name!);
  }

  private stopContainers(state: PodState, graceMs: number): void {
    state.stopping = true;
    for (const c of state.running.values()) c.stop(graceMs);
  }

  /** Once nothing of the pod runs: its volumes detach, its emptyDirs go, and a deleted pod's object is removed. */
  private releaseIfDone(state: PodState): void {
    if (state.released || state.running.size || state.sessions.size || this.isNodeLost(state.node)) return;
    const current = this.current(state);
    const phase = (current?.status as { phase?: string } | undefined)?.phase;
    const finished = !current || state.removeWhenStopped || phase === 'Succeeded' || phase === 'Failed';
    if (!finished) return;
    state.released = true;
    for (const t of state.timers) clearTimeout(t);
    if (!current || state.removeWhenStopped) {
      this.pods.delete(state.uid);
      this.data.removePodData(state.uid);
      if (current) this.store.remove(types.pods, state.namespace, state.name);
    }
    this.queueReconcile();
  }

  private current(state: PodState): KubeObject | undefined {
    const obj = this.store.get(types.pods, state.namespace, state.name);
    return obj?.metadata.uid === state.uid ? obj : undefined;
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
    const scheduledState = this.pods.get(scheduled.metadata.uid!);
    if (scheduledState) scheduledState.node = result.node;
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
    if (this.isNodeLost(node)) return;
    for (const claim of claimNames(pod)) {
      const modes = this.accessModes(namespace, claim);
      if (!modes.includes('ReadWriteOnce')) continue;
      const elsewhere = this.usersOf(namespace, claim, pod).filter((u) => u.node !== node);
      if (elsewhere.length) {
        const pv = (this.store.get(types.pvcs, namespace, claim)?.spec as { volumeName?: string }).volumeName;
        const state = this.pods.get(pod.metadata!.uid!);
        if (state) state.waitingForAttach = true;
        const updated = this.store.mutate(types.pods, namespace, name, (o) => {
          (o.status as Record<string, unknown>).containerStatuses = containers(pod).map((c) => waitingStatus(c, 'ContainerCreating'));
        })!;
        this.events.record(updated, 'Warning', 'FailedAttachVolume', `Multi-Attach error for volume "${pv}" Volume is already used by pod(s) ${elsewhere.map((u) => u.name).join(', ')}`, 'attachdetach-controller');
        return;
      }
    }
    const state = this.pods.get(pod.metadata!.uid!);
    // Already starting: a reconcile may come while the containers start.
    if (state?.running.size) return;
    if (state?.waitingForAttach) {
      state.waitingForAttach = false;
      this.events.record(obj, 'Normal', 'SuccessfulAttachVolume', `AttachVolume.Attach succeeded for volume "${claimNames(pod).join(', ')}"`, 'attachdetach-controller');
    }
    // Volumes are set up (fsGroup applied) before any image is pulled; a failed SetUp is retried later.
    const mountFailure = applyFsGroup(this.store, this.data, pod);
    if (mountFailure) {
      this.events.record(obj, 'Warning', 'FailedMount', mountFailure.message, 'kubelet');
      return this.after(obj, this.timing.backoffMs, () => this.tryStart(namespace, name));
    }
    const image = containers(pod)[0]?.image ?? '';
    if (this.faults.forPod('imagePull', obj)) return this.failImagePull(obj, image);
    this.events.record(obj, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, 'kubelet');
    if (!state) return;
    const creating = this.store.mutate(types.pods, namespace, name, (o) => {
      (o.status as Record<string, unknown>).containerStatuses = containers(pod).map((c) => waitingStatus(c, 'ContainerCreating'));
    })!;
    // The pod is Running once its containers' commands have started, as the kubelet sees them from the runtime.
    let marked!: () => void;
    const runningMarked = new Promise<void>((resolve) => (marked = resolve));
    const starts = containers(pod).map((c) => this.startContainer(state, creating as unknown as V1Pod, c, runningMarked));
    void Promise.all(starts).then(() => {
      this.markRunning(state, node);
      marked();
    });
  }

  private markRunning(state: PodState, node: string): void {
    if (!this.current(state) || this.stopped || this.isNodeLost(node)) return;
    const now = stamp();
    const running = this.store.mutate(types.pods, state.namespace, state.name, (o) => {
      const nodeIndex = this.nodes().findIndex((n) => n.metadata?.name === node);
      o.status = {
        ...(o.status as object),
        phase: 'Running',
        hostIP: `10.0.0.${10 + nodeIndex}`,
        podIP: `10.244.${nodeIndex}.${2 + (Number(o.metadata.resourceVersion) % 250)}`,
        startTime: now,
        conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now })),
        containerStatuses: containers(o as unknown as V1Pod).map((c) => ({
          name: c.name,
          image: c.image,
          imageID: `${c.image}@sha256:${'0'.repeat(64)}`,
          containerID: containerId(o.metadata.uid!, c.name, 0),
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: state.running.get(c.name)?.startedAt ?? now } },
        })),
      };
    })!;
    for (const c of containers(running as unknown as V1Pod)) {
      this.events.record(running, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet');
      this.events.record(running, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
    }
    const deadline = (running.spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds;
    if (deadline) this.after(running, deadline * 1000, () => this.deadlineExceeded(state.namespace, state.name, state.uid));
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
    const state = this.pods.get(uid);
    if (!current || !state || current.metadata.uid !== uid || current.metadata.deletionTimestamp) return;
    const failed = this.store.mutate(types.pods, namespace, name, (o) => {
      const status = o.status as Record<string, unknown>;
      status.phase = 'Failed';
      status.reason = 'DeadlineExceeded';
      status.message = 'Pod was active on the node longer than the specified deadline';
      status.conditions = notReady(status.conditions as V1PodCondition[], 'PodFailed');
    })!;
    this.events.record(failed, 'Warning', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline', 'kubelet');
    const grace = (failed.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30;
    this.stopContainers(state, Math.max(grace * 1000, MIN_KILL_GRACE_MS));
    this.releaseIfDone(state);
  }

  /** Starts the container's main process; its exit is handled once `after` (the status showing it running) has settled. */
  private startContainer(state: PodState, pod: V1Pod, container: V1Container, after: Promise<void>): Promise<void> {
    let spec;
    try {
      spec = { ...containerProcessBase(this.store, this.data, pod, container), ...mainCommand(container) };
    } catch (error) {
      const exit: ContainerExit = { exitCode: 128, reason: 'StartError', message: (error as Error).message, startedAt: stamp(), finishedAt: stamp() };
      void after.then(() => this.containerExited(state, container, undefined, exit));
      return Promise.resolve();
    }
    const proc = new ContainerProcess(spec, this.cgroups, state.uid, container.name, container.resources?.limits, !!container.stdin);
    state.running.set(container.name, proc);
    void Promise.all([proc.exited, after]).then(([exit]) => this.containerExited(state, container, proc, exit));
    return proc.started;
  }

  private containerExited(state: PodState, container: V1Container, proc: ContainerProcess | undefined, exit: ContainerExit): void {
    if (proc && state.running.get(container.name) === proc) state.running.delete(container.name);
    // Commands exec'd into the container die with its PID namespace.
    for (const [session, name] of [...state.sessions]) if (name === container.name) session.abort();
    if (this.stopped) return;
    if (this.isNodeLost(state.node)) return void state.lostWithNode.push({ container, exit });
    const current = this.current(state);
    // A container the runtime could not create is reported as the runtime words it.
    if (exit.reason === 'StartError' && current) this.events.record(current, 'Warning', 'Failed', `Error: ${exit.message}`, 'kubelet');
    const policy = (current?.spec as { restartPolicy?: string } | undefined)?.restartPolicy ?? 'Always';
    const restart = !state.stopping && !!current && (policy === 'Always' || (policy === 'OnFailure' && exit.exitCode !== 0));
    const restarts = (state.restarts.get(container.name) ?? 0) + (restart ? 1 : 0);
    state.restarts.set(container.name, restarts);
    const terminated = {
      exitCode: exit.exitCode,
      reason: exit.reason,
      ...(exit.message ? { message: exit.message } : {}),
      startedAt: exit.startedAt,
      finishedAt: exit.finishedAt,
      containerID: containerId(state.uid, container.name, restarts - (restart ? 1 : 0)),
    };
    if (current) {
      const backoffMs = restarts <= 1 ? this.timing.stepMs : Math.min(MAX_BACKOFF_MS, this.timing.backoffMs * 2 ** (restarts - 2));
      const updated = this.store.mutate(types.pods, state.namespace, state.name, (o) => {
        const status = o.status as Record<string, unknown>;
        status.containerStatuses = ((status.containerStatuses as Record<string, unknown>[]) ?? []).map((c) => {
          if (c.name !== container.name) return c;
          if (!restart) return { ...c, ready: false, started: false, state: { terminated } };
          const message = `back-off ${Math.round(backoffMs / 1000)}s restarting failed container=${container.name} pod=${state.name}_${state.namespace}(${state.uid})`;
          return { ...c, ready: false, started: false, restartCount: restarts, lastState: { terminated }, state: { waiting: { reason: 'CrashLoopBackOff', message } } };
        });
        status.conditions = notReady(status.conditions as V1PodCondition[], 'ContainersNotReady');
        const statuses = status.containerStatuses as { state?: { terminated?: { exitCode: number } } }[];
        const allTerminated = !restart && !state.running.size && statuses.every((c) => c.state?.terminated);
        if (allTerminated && status.phase !== 'Failed') {
          status.phase = statuses.every((c) => c.state!.terminated!.exitCode === 0) ? 'Succeeded' : 'Failed';
          status.conditions = notReady(status.conditions as V1PodCondition[], status.phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed');
        }
      })!;
      if (restart) {
        const backOff = `Back-off restarting failed container ${container.name} in pod ${state.name}_${state.namespace}(${state.uid})`;
        if (restarts > 1) this.events.record(updated, 'Warning', 'BackOff', backOff, 'kubelet');
        this.after(updated, backoffMs, () => this.restartContainer(state, container));
      }
    }
    this.releaseIfDone(state);
  }

  private restartContainer(state: PodState, container: V1Container): void {
    const current = this.current(state);
    if (!current || state.stopping || current.metadata.deletionTimestamp) return;
    let marked!: () => void;
    const runningMarked = new Promise<void>((resolve) => (marked = resolve));
    const started = this.startContainer(state, current as unknown as V1Pod, container, runningMarked);
    void started.then(() => {
      this.markRestarted(state, container);
      marked();
    });
  }

  private markRestarted(state: PodState, container: V1Container): void {
    if (!this.current(state) || this.stopped) return;
    const now = stamp();
    const restarts = state.restarts.get(container.name) ?? 0;
    const startedAt = state.running.get(container.name)?.startedAt ?? now;
    const running = this.store.mutate(types.pods, state.namespace, state.name, (o) => {
      const status = o.status as Record<string, unknown>;
      status.containerStatuses = ((status.containerStatuses as Record<string, unknown>[]) ?? []).map((c) =>
        c.name === container.name ? { ...c, ready: true, started: true, containerID: containerId(state.uid, container.name, restarts), state: { running: { startedAt } } } : c,
      );
      const statuses = status.containerStatuses as { ready?: boolean }[];
      if (statuses.every((c) => c.ready)) {
        status.conditions = ((status.conditions as V1PodCondition[]) ?? []).map((c) =>
          c.type === 'Ready' || c.type === 'ContainersReady' ? { type: c.type, status: 'True', lastProbeTime: null, lastTransitionTime: now } : c,
        ) as unknown as V1PodCondition[];
      }
    })!;
    this.events.record(running, 'Normal', 'Pulled', `Container image "${container.image}" already present on machine`, 'kubelet');
    this.events.record(running, 'Normal', 'Created', `Created container: ${container.name}`, 'kubelet');
    this.events.record(running, 'Normal', 'Started', `Started container ${container.name}`, 'kubelet');
  }

  private nodes(): V1Node[] {
    return this.store.list(types.nodes) as unknown as V1Node[];
  }

  private accessModes(namespace: string, claim: string): string[] {
    const pvc = this.store.get(types.pvcs, namespace, claim) as unknown as V1PersistentVolumeClaim | undefined;
    return pvc?.status?.accessModes ?? pvc?.spec?.accessModes ?? [];
  }

  /** Other pods that hold the claim on a node: scheduled and not yet gone, or deleted with processes still running. */
  private usersOf(namespace: string, claim: string, self: V1Pod): { name: string; node: string }[] {
    const users: { name: string; node: string }[] = [];
    for (const state of this.pods.values()) {
      if (state.uid === self.metadata?.uid || state.namespace !== namespace || !state.node || state.released || state.waitingForAttach) continue;
      if (state.claims.includes(claim)) users.push({ name: state.name, node: state.node });
    }
    return users;
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

/** A container ID per start, as each restart makes a new container. */
function containerId(uid: string, container: string, restart: number): string {
  return `containerd://${createHash('sha256').update(`${uid}/${container}/${restart}`).digest('hex')}`;
}

function notReady(conditions: V1PodCondition[] | undefined, reason: string): V1PodCondition[] {
  const now = stamp();
  return (conditions ?? []).map((c) =>
    (c.type === 'Ready' || c.type === 'ContainersReady') && (c.status !== 'False' || c.reason !== reason) ? ({ ...c, status: 'False', reason, lastTransitionTime: now } as unknown as V1PodCondition) : c,
  );
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
