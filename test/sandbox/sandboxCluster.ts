import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, Server } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { AccessControl, UserInfo } from './api/access';
import { apiGroup, apiGroupList, apiResourceList, coreApiVersions, serverVersion } from './api/discovery';
import { KubeObject, ObjectStore } from './api/objectStore';
import { openApiDocument, openApiRoot } from './api/openapi';
import { parseResourcePath } from './api/requestInfo';
import { handleResource, sendError, sendJson, verbOf } from './api/restHandler';
import { errors } from './api/status';
import { ClusterHooks } from './cluster/clusterHooks';
import { EventRecorder } from './cluster/eventRecorder';
import { handleExecUpgrade } from './cluster/execEndpoint';
import { CpuLimits } from './exec/cpuLimit';
import { ExecBandwidth, ExecBandwidthLimits } from './exec/execBandwidth';
import { negotiateExecProtocol } from './exec/execSession';
import { NodeOutageOptions, NodeOutages } from './cluster/nodeOutage';
import { LifecycleTiming, PodLifecycle } from './cluster/podLifecycle';
import { Provisioner } from './cluster/provisioner';
import { freezeProcessTrees } from './cluster/writerFreeze';
import { SnapshotController } from './cluster/snapshotController';
import { types } from './cluster/types';
import { VolumeData } from './cluster/volumeData';
import { FaultRegistry } from './faults';
import { findResourceTypeByKind } from './resourceTypes';
import { createCertificates } from './tls';

export interface SandboxOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Folder for volume contents; a temporary one (removed on stop) when absent. */
  dataDir?: string;
  timing?: Partial<LifecycleTiming>;
  /** How long a new VolumeSnapshot takes to become readyToUse after it is cut (default 300 ms). */
  snapshotReadyDelayMs?: number;
  /** Holds exec streams to a bandwidth per stream and in total, as a slow link to a cluster does; absent: unlimited. */
  execBandwidth?: ExecBandwidthLimits;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  user: string;
  verb?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  status: number;
  /** The Accept header, which picks the representation (e.g. metadata only). */
  accept?: string;
}

/** A Kubernetes API server on 127.0.0.1 over HTTPS that kubectl and client-node accept, with real exec. */
export class SandboxCluster {
  readonly store = new ObjectStore();
  readonly faults = new FaultRegistry();
  readonly access = new AccessControl(this.faults);
  readonly requests: RequestRecord[] = [];
  readonly adminToken = randomBytes(24).toString('hex');
  readonly data: VolumeData;
  readonly pods: PodLifecycle;
  /** The snapshot controller and CSI snapshotter; `snapshots.readyDelayMs` can be changed at any time. */
  readonly snapshots: SnapshotController;
  readonly caPem: string;
  /** Enforces containers' CPU and memory limits; `enforcement` and `memoryEnforcement` say whether it can. */
  readonly cpuLimits = new CpuLimits();
  /** Exec streams' bandwidth limits; `execBandwidth.set()` changes them for streams opened afterwards. */
  readonly execBandwidth: ExecBandwidth;
  private readonly hooks: ClusterHooks;
  private readonly provisioner: Provisioner;
  private readonly outages: NodeOutages;
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered) => negotiateExecProtocol([...offered]) ?? false });
  private readonly sockets = new Set<Socket>();
  private readonly ownsData: boolean;

  private constructor(options: SandboxOptions) {
    this.ownsData = !options.dataDir;
    this.execBandwidth = new ExecBandwidth(options.execBandwidth);
    this.data = new VolumeData(options.dataDir ?? mkdtempSync(join(tmpdir(), 'nkvm-sandbox-')));
    const events = new EventRecorder(this.store);
    this.provisioner = new Provisioner(this.store, this.data, events);
    this.pods = new PodLifecycle(this.store, this.faults, events, this.provisioner, this.data, this.cpuLimits, { stepMs: 40, backoffMs: 10_000, ...options.timing });
    this.snapshots = new SnapshotController(this.store, this.data, events, this.faults, options.snapshotReadyDelayMs ?? 300, (namespace, claim) =>
      freezeProcessTrees(this.pods.processesMounting(namespace, claim)),
    );
    this.hooks = new ClusterHooks(this.store, this.pods, this.provisioner, this.snapshots);
    this.outages = new NodeOutages(this.store, events, this.pods);
    this.access.addToken(this.adminToken, { username: 'sandbox-admin', groups: ['system:masters', 'system:authenticated'] });
    const certs = createCertificates();
    this.caPem = certs.caPem;
    this.server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(options: SandboxOptions = {}): Promise<SandboxCluster> {
    const cluster = new SandboxCluster(options);
    await new Promise<void>((resolve, reject) => {
      cluster.server.once('error', reject);
      cluster.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return cluster;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig with one context (named `sandbox` unless told otherwise) using the admin token or another. */
  kubeconfig(options: { context?: string; token?: string; user?: string; namespace?: string } = {}): string {
    const context = options.context ?? 'sandbox';
    const user = options.user ?? `${context}-admin`;
    const ca = Buffer.from(this.caPem).toString('base64');
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: ${context}`,
      '  cluster:',
      `    server: ${this.url}`,
      `    certificate-authority-data: ${ca}`,
      'users:',
      `- name: ${user}`,
      '  user:',
      `    token: ${options.token ?? this.adminToken}`,
      'contexts:',
      `- name: ${context}`,
      '  context:',
      `    cluster: ${context}`,
      `    user: ${user}`,
      ...(options.namespace ? [`    namespace: ${options.namespace}`] : []),
      `current-context: ${context}`,
      '',
    ].join('\n');
  }

  writeKubeconfig(path: string, options?: Parameters<SandboxCluster['kubeconfig']>[0]): void {
    writeFileSync(path, this.kubeconfig(options), { mode: 0o600 });
  }

  /** Stores objects as if created through the API (defaults, provisioning, pod start), without auth. */
  seed(...objects: KubeObject[]): KubeObject[] {
    return objects.map((o) => {
      const type = findResourceTypeByKind(o.apiVersion ?? '', o.kind ?? '');
      if (!type) throw new Error(`the sandbox does not serve ${o.apiVersion} ${o.kind}`);
      const copy = structuredClone(o);
      copy.metadata ??= {};
      this.hooks.admit(type, copy);
      if (o.status) copy.status = structuredClone(o.status);
      const created = this.store.create(type, copy);
      this.hooks.created(type, created);
      return created;
    });
  }

  /** The folder on this machine holding a claim's files. */
  volumePath(namespace: string, claim: string): string {
    const pvName = (this.store.get(types.pvcs, namespace, claim)?.spec as { volumeName?: string } | undefined)?.volumeName;
    if (!pvName) throw new Error(`claim ${namespace}/${claim} is not bound`);
    return this.data.volumePath(pvName);
  }

  /** The folder on this machine holding the data of a VolumeSnapshot's content (the CSI snapshot), once it is cut. */
  snapshotPath(namespace: string, snapshot: string): string {
    const contentName = (this.store.get(types.snapshots, namespace, snapshot)?.status as { boundVolumeSnapshotContentName?: string } | undefined)?.boundVolumeSnapshotContentName;
    const content = contentName ? this.store.get(types.snapshotContents, undefined, contentName) : undefined;
    const handle = (content?.status as { snapshotHandle?: string } | undefined)?.snapshotHandle;
    if (!handle) throw new Error(`volume snapshot ${namespace}/${snapshot} has not been cut`);
    return this.data.snapshotPath(handle);
  }

  /**
   * Takes a node away as a reboot or a kubelet/network outage does (see NodeOutages); resolves once it is
   * back and has reported its pods.
   */
  loseNode(node: string, options: NodeOutageOptions): Promise<void> {
    return this.outages.lose(node, options);
  }

  async stop(): Promise<void> {
    this.outages.stop();
    this.snapshots.stop();
    this.provisioner.stop();
    const containersGone = this.pods.stop();
    for (const ws of this.wss.clients) ws.terminate();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    await containersGone;
    await this.cpuLimits.close();
    if (this.ownsData) rmSync(this.data.root, { recursive: true, force: true });
  }

  private authenticate(req: IncomingMessage): UserInfo {
    const user = this.access.authenticate(req.headers.authorization);
    if (!user) throw errors.unauthorized();
    return user;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: url.search, user: '', status: 0, accept: req.headers.accept };
    this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    try {
      const body = await readBody(req);
      if (this.faults.takeConnectionReset(record.method, url.pathname)) {
        // No status line at all: the client sees ECONNRESET / "socket hang up".
        record.status = -1;
        return void req.socket.destroy();
      }
      const latency = this.faults.latencyFor(url.pathname);
      if (latency) await new Promise((r) => setTimeout(r, latency));
      const burst = this.faults.takeHttpError(record.method, url.pathname);
      if (burst) {
        if (burst.status === 429) throw errors.tooManyRequests(burst.retryAfterSeconds ?? 1);
        if (burst.status === 503) throw errors.serviceUnavailable();
        throw errors.internal('injected fault');
      }
      if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end('ok');
      }
      const user = this.authenticate(req);
      record.user = user.username;
      if (this.discovery(url.pathname, res)) return;
      const parsed = parseResourcePath(url.pathname);
      if (parsed.kind !== 'resource') throw errors.pathNotFound();
      const request = parsed.request;
      const verb = verbOf(record.method, request, url.searchParams);
      Object.assign(record, { verb, resource: request.type.plural, subresource: request.subresource, namespace: request.namespace });
      if (request.subresource === 'exec') throw errors.badRequest('Upgrade request required');
      if (request.type.plural !== 'selfsubjectaccessreviews') {
        const decision = this.access.authorize({ user, verb, group: request.type.group, resource: request.type.plural, subresource: request.subresource, namespace: request.namespace, name: request.name });
        if (!decision.allowed) throw errors.forbidden(user.username, verb, request.type.plural, request.type.group, request.namespace, request.name, request.subresource);
      }
      await handleResource({ store: this.store, access: this.access, hooks: this.hooks }, user, req, res, request, body);
    } catch (e) {
      sendError(res, e);
    }
  }

  private discovery(path: string, res: ServerResponse): boolean {
    const p = path.replace(/\/+$/, '');
    let body: object | undefined;
    if (p === '/version') body = serverVersion;
    else if (p === '/api') body = coreApiVersions(`127.0.0.1:${this.port}`);
    else if (p === '/apis') body = apiGroupList();
    else if (p === '/api/v1') body = apiResourceList('', 'v1');
    else if (p === '/openapi/v3') body = openApiRoot();
    else if (p.startsWith('/openapi/v3/')) {
      const m = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p);
      body = m ? openApiDocument(m[2] ?? '', m[1] ?? m[3]) : undefined;
      if (!body) throw errors.pathNotFound();
    } else {
      const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(p);
      if (m) body = m[2] ? apiResourceList(m[1], m[2]) : apiGroup(m[1]);
      if (m && !body) throw errors.pathNotFound();
    }
    if (!body) return false;
    sendJson(res, 200, body);
    return true;
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: url.search, user: '', status: 101 };
    this.requests.push(record);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    let user: UserInfo | undefined;
    try {
      user = this.authenticate(req);
    } catch {
      /* answered below */
    }
    if (!m || !user) {
      const e = !user ? errors.unauthorized() : errors.pathNotFound();
      record.status = e.code;
      const text = JSON.stringify(e.body);
      socket.end(`HTTP/1.1 ${e.code} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
      return;
    }
    Object.assign(record, { user: user.username, verb: 'create', resource: 'pods', subresource: 'exec', namespace: decodeURIComponent(m[1]) });
    handleExecUpgrade(
      {
        store: this.store,
        access: this.access,
        faults: this.faults,
        pods: this.pods,
        data: this.data,
        wss: this.wss,
        cpuLimits: this.cpuLimits,
        bandwidth: this.execBandwidth,
        refused: (code) => (record.status = code),
      },
      req,
      socket,
      head,
      user,
      decodeURIComponent(m[1]),
      decodeURIComponent(m[2]),
    );
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
