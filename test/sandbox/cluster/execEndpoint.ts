import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { AccessControl, UserInfo } from '../api/access';
import { ObjectStore } from '../api/objectStore';
import { ApiError, errors } from '../api/status';
import { ContainerMount, spawnInContainer } from '../exec/containerRunner';
import { CpuCgroupLease, CpuLimits } from '../exec/cpuLimit';
import { EXEC_SUBPROTOCOLS, negotiateExecProtocol, runExecSession } from '../exec/execSession';
import { execInternalErrorStatus } from '../exec/execStatus';
import { FaultRegistry } from '../faults';
import { PodLifecycle } from './podLifecycle';
import { types } from './types';
import { VolumeData } from './volumeData';

export interface ExecDeps {
  store: ObjectStore;
  access: AccessControl;
  faults: FaultRegistry;
  pods: PodLifecycle;
  data: VolumeData;
  wss: WebSocketServer;
  /** Puts each command into its container's CPU cgroup, as the kubelet enforces `resources.limits.cpu`. */
  cpuLimits: CpuLimits;
  /** Told the status of a refused upgrade, so the request log shows 403 rather than the 101 it hoped for. */
  refused?: (code: number) => void;
}

/** `pods/{name}/exec` upgraded to a WebSocket: authorize, find the container, run the command with the pod's volumes. */
export function handleExecUpgrade(deps: ExecDeps, req: IncomingMessage, socket: Duplex, head: Buffer, user: UserInfo, namespace: string, podName: string): void {
  const url = new URL(req.url ?? '/', 'https://sandbox');
  const q = url.searchParams;
  try {
    const decision = deps.access.authorize({ user, verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace, name: podName });
    if (!decision.allowed) throw errors.forbidden(user.username, 'create', 'pods', '', namespace, podName, 'exec');
    const obj = deps.store.get(types.pods, namespace, podName);
    if (!obj) throw errors.notFound('pods', '', podName);
    const pod = obj as unknown as V1Pod;
    const container = pickContainer(pod, q.get('container'));
    if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${podName} does not have a host assigned`);
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      throw errors.badRequest(`cannot exec into a container in a completed pod; current phase is ${pod.status.phase}`);
    }
    if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) throw errors.badRequest(`container not found ("${container.name}")`);
    const command = q.getAll('command');
    if (!command.length) throw errors.badRequest('you must specify at least 1 command');
    if (!/websocket/i.test(req.headers.upgrade ?? '')) throw errors.badRequest('the sandbox cluster serves exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io)');
    const spoken = deps.faults.execProtocols();
    const protocol = negotiateExecProtocol(req.headers['sec-websocket-protocol'], spoken);
    if (!protocol) throw errors.badRequest(`unable to upgrade connection: no supported subprotocol offered (${(spoken ?? EXEC_SUBPROTOCOLS).join(' or ')})`);
    // The shared WebSocket server answers with the client's first choice it knows; offer it only the one chosen here.
    if (spoken) req.headers['sec-websocket-protocol'] = protocol;

    const mounts = mountsFor(deps, pod, container);
    const sc = { ...pod.spec.securityContext, ...container.securityContext };
    const session = deps.pods.openSession(obj);
    deps.wss.handleUpgrade(req, socket, head, (ws) => {
      let child;
      let cpuCgroup: CpuCgroupLease | undefined;
      try {
        cpuCgroup = deps.cpuLimits.enter(pod.metadata!.uid!, container.name, container.resources?.limits?.cpu);
        child = spawnInContainer({
          command,
          image: container.image ?? '',
          mounts,
          runAsUser: sc.runAsUser,
          // Without runAsGroup a container runs with its image's group, which is 0 for the images used here.
          runAsGroup: sc.runAsGroup ?? (sc.runAsUser !== undefined ? 0 : undefined),
          env: Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])),
          workingDir: container.workingDir,
          stateDir: deps.data.stateDir,
          cpuCgroupProcs: cpuCgroup?.procsFile,
        });
        child.once('exit', () => cpuCgroup?.release());
        child.once('error', () => cpuCgroup?.release());
      } catch (e) {
        cpuCgroup?.release();
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(execInternalErrorStatus((e as Error).message)))]));
        ws.close(1000);
        session.abort();
        return;
      }
      runExecSession(ws, child, {
        protocol,
        command,
        stdin: q.get('stdin') === 'true' || q.get('stdin') === '1',
        cutAfterBytes: deps.faults.forPod('execCut', obj)?.afterBytes,
        exitCodeOverride: deps.faults.forPod('execExitCode', obj)?.code,
        corruptByteAt: deps.faults.forPod('execCorrupt', obj)?.byteOffset,
        signal: session.signal,
      }).finally(() => session.abort());
    });
  } catch (e) {
    const error = e instanceof ApiError ? e : errors.internal(String(e));
    deps.refused?.(error.code);
    refuse(socket, error);
  }
}

function pickContainer(pod: V1Pod, name: string | null): V1Container {
  const containers = pod.spec?.containers ?? [];
  if (!name) {
    if (containers.length === 1) return containers[0];
    throw errors.badRequest(`a container name must be specified for pod ${pod.metadata?.name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`);
  }
  const found = containers.find((c) => c.name === name);
  if (!found) throw errors.badRequest(`container ${name} is not valid for pod ${pod.metadata?.name}`);
  return found;
}

function mountsFor(deps: ExecDeps, pod: V1Pod, container: V1Container): ContainerMount[] {
  const mounts: ContainerMount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === vm.name);
    if (!volume) continue;
    let hostPath: string | undefined;
    let readOnly = !!vm.readOnly;
    if (volume.persistentVolumeClaim) {
      const pvc = deps.store.get(types.pvcs, pod.metadata!.namespace, volume.persistentVolumeClaim.claimName);
      const pvName = (pvc?.spec as { volumeName?: string } | undefined)?.volumeName;
      if (!pvName) continue;
      hostPath = deps.data.volumePath(pvName);
      readOnly ||= !!volume.persistentVolumeClaim.readOnly;
    } else if (volume.emptyDir) {
      hostPath = deps.data.emptyDirPath(pod.metadata!.uid!, volume.name);
    }
    if (!hostPath) continue;
    if (vm.subPath) hostPath = `${hostPath}/${vm.subPath}`;
    mounts.push({ hostPath, mountPath: vm.mountPath, readOnly });
  }
  return mounts;
}

/** Answers a refused upgrade with a Status body, which kubectl prints (it retries over SPDY first). */
function refuse(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.body);
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' }[error.code] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${error.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
