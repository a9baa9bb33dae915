import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { ExecStatus } from '../../sandbox/exec/execStatus';
import { negotiateExecProtocol, runExecSession, type ExecSessionOptions, type ExecSessionResult } from '../../sandbox/exec/execSession';

/** What the exec URL asked for, parsed as the API server does. */
export interface ExecRequest {
  command: string[];
  stdin: boolean;
  protocol: string;
}

export type StartCommand = (request: ExecRequest) => { child: ChildProcessWithoutNullStreams; faults?: Pick<ExecSessionOptions, 'cutAfterBytes' | 'exitCodeOverride' | 'signal'> };

export interface ServerSession {
  ws: WebSocket;
  child: ChildProcessWithoutNullStreams;
  result: Promise<ExecSessionResult>;
}

export interface ExecServer {
  url(command: string[], options?: { stdin?: boolean }): string;
  sessions: ServerSession[];
  close(): Promise<void>;
}

/** A bare HTTP server with the exec upgrade, standing in for the sandbox API server's routing. */
export async function startExecServer(start: StartCommand): Promise<ExecServer> {
  const sessions: ServerSession[] = [];
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => negotiateExecProtocol(offered) ?? false });
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    if (!negotiateExecProtocol(req.headers['sec-websocket-protocol'])) {
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'no supported exec subprotocol offered', reason: 'BadRequest', code: 400 });
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const query = new URL(req.url ?? '/', 'http://sandbox').searchParams;
      const request = { command: query.getAll('command'), stdin: query.get('stdin') === 'true', protocol: ws.protocol };
      const { child, faults } = start(request);
      const result = runExecSession(ws, child, { ...request, ...faults });
      sessions.push({ ws, child, result });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (command, options = {}) => {
      const query = new URLSearchParams(command.map((c) => ['command', c]));
      query.set('stdout', 'true');
      query.set('stderr', 'true');
      if (options.stdin) query.set('stdin', 'true');
      return `ws://127.0.0.1:${port}/api/v1/namespaces/default/pods/p/exec?${query}`;
    },
    sessions,
    close: async () => {
      await Promise.all(sessions.map((s) => s.result));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface ExecTranscript {
  stdout: Buffer;
  stdoutBytes: number;
  stderr: Buffer;
  status?: ExecStatus;
  closeCode: number;
  /** The channel byte of every frame, in arrival order. */
  channels: number[];
}

/** Connects like kubectl (v5 only) unless told otherwise. */
export function openExec(url: string, protocols: string[] = ['v5.channel.k8s.io']): WebSocket {
  return new WebSocket(url, protocols);
}

/** Reads the session to its close; with keepStdout false only counts stdout, for large streams. */
export function collectExec(ws: WebSocket, { keepStdout = true } = {}): Promise<ExecTranscript> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const channels: number[] = [];
  let stdoutBytes = 0;
  let status: ExecStatus | undefined;
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) return reject(new Error('the server sent a text frame, which kubectl treats as fatal'));
      const frame = data as Buffer;
      channels.push(frame[0]);
      const payload = frame.subarray(1);
      if (frame[0] === 1) {
        stdoutBytes += payload.length;
        if (keepStdout) stdout.push(payload);
      } else if (frame[0] === 2) stderr.push(payload);
      else if (frame[0] === 3) status = JSON.parse(payload.toString('utf8')) as ExecStatus;
    });
    ws.on('close', (closeCode) => resolve({ stdout: Buffer.concat(stdout), stdoutBytes, stderr: Buffer.concat(stderr), status, closeCode, channels }));
  });
}

export function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

/** Resolves when `check` passes, polling; rejects after `ms`. */
export async function eventually(check: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
