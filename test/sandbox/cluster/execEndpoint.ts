import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { AccessControl, UserInfo } from '../api/access';
import { ObjectStore } from '../api/objectStore';
import { ApiError, errors } from '../api/status';
import { spawnInContainer } from '../exec/containerRunner';
import { CpuCgroupLease, CpuLimits } from '../exec/cpuLimit';
import { ExecBandwidth } from '../exec/execBandwidth';
import { EXEC_SUBPROTOCOLS, negotiateExecProtocol, runExecSession } from '../exec/execSession';
import { execInternalErrorStatus, ExecStatus } from '../exec/execStatus';
import { ExecutableNotFoundError } from '../exec/imageUserland';
import { FaultRegistry } from '../faults';
import { containerProcessBase } from './containerSpec';
import { kubeletUnreachableStatus, NodeLost } from './nodeOutage';
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
  /** Puts each command into its container's cgroups, as the kubelet enforces `resources.limits`. */
  cpuLimits: CpuLimits;
  /** Holds each exec stream to the sandbox's bandwidth limits and the pod's `execBandwidth` fault. */
  bandwidth: ExecBandwidth;
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
    const command = q.getAll('command');
    if (!command.length) throw errors.badRequest('you must specify at least 1 command');
    if (!/websocket/i.test(req.headers.upgrade ?? '')) throw errors.badRequest('the sandbox cluster serves exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io)');
    const spoken = deps.faults.execProtocols();
    const protocol = negotiateExecProtocol(req.headers['sec-websocket-protocol'], spoken);
    if (!protocol) throw errors.badRequest(`unable to upgrade connection: no supported subprotocol offered (${(spoken ?? EXEC_SUBPROTOCOLS).join(' or ')})`);
    // The shared WebSocket server answers with the client's first choice it knows; offer it only the one chosen here.
    if (spoken) req.headers['sec-websocket-protocol'] = protocol;
    const bandwidth = deps.bandwidth.openStream(deps.faults.forPod('execBandwidth', obj)?.bytesPerSecond);

    deps.wss.handleUpgrade(req, socket, head, (ws) => {
      // The API server upgrades first, then asks the kubelet, which knows only running containers.
      if (deps.pods.isNodeLost(pod.spec!.nodeName)) {
        const path = { namespace, pod: podName, container: container.name };
        return void sendStatusAndClose(ws, kubeletUnreachableStatus(pod.status?.hostIP, path, command, q.get('stdin') === 'true'));
      }
      const session = deps.pods.openSession(obj, container.name);
      if (!session) return void sendStatusAndClose(ws, containerNotFoundStatus(container.name));
      let child;
      let cgroup: CpuCgroupLease | undefined;
      try {
        cgroup = deps.cpuLimits.enter(pod.metadata!.uid!, container.name, container.resources?.limits);
        child = spawnInContainer({ ...containerProcessBase(deps.store, deps.data, pod, container), command, cgroupProcs: cgroup?.procsFiles });
        child.once('exit', () => cgroup?.release());
        child.once('error', () => cgroup?.release());
      } catch (e) {
        cgroup?.release();
        sendStatusAndClose(ws, e instanceof ExecutableNotFoundError ? execNotFoundStatus(e) : execInternalErrorStatus((e as Error).message));
        session.abort();
        return;
      }
      // The node went away under the stream: the connection to its kubelet drops without a status.
      session.signal.addEventListener('abort', () => session.signal.reason instanceof NodeLost && ws.terminate(), { once: true });
      const corrupt = deps.faults.forPod('execCorrupt', obj);
      runExecSession(ws, child, {
        protocol,
        command,
        stdin: q.get('stdin') === 'true' || q.get('stdin') === '1',
        cutAfterBytes: () => deps.faults.forPod('execCut', obj)?.afterBytes,
        cutStrikes: () => {
          const cut = deps.faults.forPod('execCut', obj);
          return cut === undefined || deps.faults.strike(cut);
        },
        exitCodeOverride: deps.faults.forPod('execExitCode', obj)?.code,
        corruptByteAt: corrupt?.byteOffset,
        corruptStrikes: () => corrupt === undefined || deps.faults.strike(corrupt),
        bandwidth,
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

/**
 * What a 1.30+ API server sends when the kubelet has no running container of that name (not started,
 * crashed, completed or stopped): its SPDY upgrade to the kubelet failed, reported on the error channel.
 */
export function containerNotFoundStatus(container: string): ExecStatus {
  const cause = `unable to upgrade connection: container not found ("${container}")`;
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${cause}`, reason: 'InternalError', details: { causes: [{ message: cause }] }, code: 500 };
}

/**
 * A command missing from the image: the kubelet answers the CRI exec error as an InternalError, and a
 * 1.30+ API server, translating the WebSocket stream, wraps that once more (hence the doubled prefix
 * `kubectl exec` prints). The stream was upgraded first, so clients see it on the error channel.
 */
function execNotFoundStatus(error: ExecutableNotFoundError): ExecStatus {
  const execId = randomBytes(32).toString('hex');
  const kubelet = `Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "${execId}": OCI runtime exec failed: exec failed: unable to start container process: ${error.detail}: unknown`;
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${kubelet}`, reason: 'InternalError', details: { causes: [{ message: kubelet }] }, code: 500 };
}

function sendStatusAndClose(ws: WebSocket, status: ExecStatus): void {
  ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(status))]));
  ws.close(1000);
}

/** Answers a refused upgrade with a Status body, which kubectl prints (it retries over SPDY first). */
function refuse(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.body);
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' }[error.code] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${error.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
