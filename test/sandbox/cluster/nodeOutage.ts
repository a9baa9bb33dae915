import type { V1NodeCondition, V1PodCondition, V1Taint } from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import { KubeObject, ObjectStore } from '../api/objectStore';
import { execInternalErrorStatus, ExecStatus } from '../exec/execStatus';
import { ContainerExit } from './containerProcess';
import { EventRecorder } from './eventRecorder';
import { types } from './types';

/** Why an exec stream broke: the node under it went away, so the API server lost its kubelet connection. */
export class NodeLost extends Error {
  constructor(readonly node: string) {
    super(`node ${node} is unreachable`);
  }
}

/** The kubelet side of an outage: PodLifecycle kills and, once the node is back, reports the node's containers. */
export interface NodeKubelet {
  nodeLost(node: string, reason: NodeLost): void;
  nodeReturned(node: string): void;
}

export interface NodeOutageOptions {
  /** How long the node stays away (a reboot, a kubelet or network outage). */
  downMs: number;
  /**
   * When the node lifecycle controller notices: node-monitor-grace-period after the last status (40 s by default
   * on a real cluster). A node back sooner is never marked Unknown.
   */
  monitorGraceMs?: number;
}

const UNREACHABLE = 'node.kubernetes.io/unreachable';
const UNKNOWN_REASON = 'NodeStatusUnknown';
const UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.';

/**
 * Takes nodes away and brings them back as a reboot does. While away the kubelet posts nothing: its containers
 * are gone but their pods still say Running. The node lifecycle controller then marks the node's conditions
 * Unknown, taints it unreachable and sets its pods' Ready condition False. Back, the kubelet finds the
 * containers gone and reports them (PodLifecycle.nodeReturned).
 */
export class NodeOutages {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly down = new Set<string>();

  constructor(private readonly store: ObjectStore, private readonly events: EventRecorder, private readonly kubelet: NodeKubelet) {}

  /** Resolves once the node is back and its kubelet has reported its pods. */
  lose(node: string, options: NodeOutageOptions): Promise<void> {
    if (!this.store.get(types.nodes, undefined, node)) return Promise.reject(new Error(`node ${node} not found`));
    if (this.down.has(node)) return Promise.reject(new Error(`node ${node} is already down`));
    this.down.add(node);
    this.kubelet.nodeLost(node, new NodeLost(node));
    const grace = options.monitorGraceMs ?? 0;
    if (grace < options.downMs) this.later(grace, () => this.markUnknown(node));
    return new Promise((resolve) =>
      this.later(options.downMs, () => {
        this.down.delete(node);
        this.markReady(node);
        this.kubelet.nodeReturned(node);
        resolve();
      }),
    );
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** What the node lifecycle controller does once the node's lease and status are older than its grace period. */
  private markUnknown(node: string): void {
    const now = stamp();
    const updated = this.store.mutate(types.nodes, undefined, node, (o) => {
      const status = (o.status ?? {}) as { conditions?: V1NodeCondition[] };
      status.conditions = (status.conditions ?? []).map(
        (c) => ({ ...c, status: 'Unknown', reason: UNKNOWN_REASON, message: UNKNOWN_MESSAGE, lastTransitionTime: now }) as unknown as V1NodeCondition,
      );
      const spec = (o.spec ?? {}) as { taints?: V1Taint[] };
      const others = (spec.taints ?? []).filter((t) => t.key !== UNREACHABLE);
      spec.taints = [...others, { key: UNREACHABLE, effect: 'NoSchedule' }, { key: UNREACHABLE, effect: 'NoExecute', timeAdded: now as unknown as Date }];
      o.spec = spec;
    });
    if (updated) this.events.record(updated, 'Normal', 'NodeNotReady', `Node ${node} status is now: NodeNotReady`, 'node-controller');
    for (const pod of this.podsOn(node)) {
      const phase = (pod.status as { phase?: string }).phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const marked = this.store.mutate(types.pods, pod.metadata.namespace, pod.metadata.name!, (o) => {
        const status = o.status as { conditions?: V1PodCondition[] };
        status.conditions = (status.conditions ?? []).map((c) =>
          c.type === 'Ready' && c.status !== 'False' ? ({ ...c, status: 'False', lastTransitionTime: now } as unknown as V1PodCondition) : c,
        );
      });
      if (marked) this.events.record(marked, 'Warning', 'NodeNotReady', 'Node is not ready', 'node-controller');
    }
  }

  /** The kubelet starts again after the reboot, posts Ready, and the controller lifts the unreachable taints. */
  private markReady(node: string): void {
    const now = stamp();
    const updated = this.store.mutate(types.nodes, undefined, node, (o) => {
      const status = (o.status ?? {}) as { conditions?: V1NodeCondition[]; nodeInfo?: { bootID?: string } };
      status.conditions = (status.conditions ?? []).map((c) => ({ ...c, ...readyCondition(c.type), lastTransitionTime: now }) as unknown as V1NodeCondition);
      status.nodeInfo = { ...status.nodeInfo, bootID: randomUUID() };
      const spec = (o.spec ?? {}) as { taints?: V1Taint[] };
      spec.taints = (spec.taints ?? []).filter((t) => t.key !== UNREACHABLE);
      if (!spec.taints.length) delete spec.taints;
      o.spec = spec;
    });
    if (!updated) return;
    const bootId = (updated.status as { nodeInfo?: { bootID?: string } }).nodeInfo?.bootID;
    this.events.record(updated, 'Normal', 'Starting', 'Starting kubelet.', 'kubelet');
    this.events.record(updated, 'Warning', 'Rebooted', `Node ${node} has been rebooted, boot id: ${bootId}`, 'kubelet');
    this.events.record(updated, 'Normal', 'NodeReady', `Node ${node} status is now: NodeReady`, 'kubelet');
  }

  private podsOn(node: string): KubeObject[] {
    return this.store.list(types.pods).filter((p) => (p.spec as { nodeName?: string }).nodeName === node);
  }
}

function readyCondition(type: string): Partial<V1NodeCondition> {
  if (type === 'Ready') return { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
  const pressure: Record<string, Partial<V1NodeCondition>> = {
    MemoryPressure: { reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    DiskPressure: { reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    PIDPressure: { reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  };
  return { status: 'False', ...pressure[type] };
}

/**
 * How the kubelet reports a container a reboot took away: with restartPolicy Never it could not be located
 * (the pod then fails); otherwise it is restarted, its last state an Unknown exit 255.
 */
export function exitAfterReboot(exit: ContainerExit, restartPolicy: string): ContainerExit {
  if (restartPolicy === 'Never') {
    return { ...exit, exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' };
  }
  return { ...exit, exitCode: 255, reason: 'Unknown', message: undefined };
}

/**
 * What a 1.30+ API server sends on the exec error channel when it cannot reach the pod's kubelet: it upgrades
 * the client's WebSocket first, then its request to the kubelet (port 10250) fails to connect.
 */
export function kubeletUnreachableStatus(hostIP: string | undefined, path: { namespace: string; pod: string; container: string }, command: string[], stdin: boolean): ExecStatus {
  const address = `${hostIP ?? '10.0.0.10'}:10250`;
  const query = new URLSearchParams([...command.map((c) => ['command', c]), ['error', '1'], ...(stdin ? [['input', '1']] : []), ['output', '1']]);
  const url = `https://${address}/exec/${path.namespace}/${path.pod}/${path.container}?${query}`;
  return execInternalErrorStatus(`Internal error occurred: error sending request: Post "${url}": dial tcp ${address}: connect: connection refused`);
}

function stamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
