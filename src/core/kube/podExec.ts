import type { KubeConfig } from '@kubernetes/client-node';
import type { IncomingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';

const protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const enum Channel {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  Status = 3,
  Close = 255,
}

/** A Kubernetes Status object, as the API server and the exec status channel send it. */
export interface KubeStatus {
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export interface PodExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdout: Writable;
  stderr: (chunk: Buffer) => void;
  stdin?: Readable;
  signal?: AbortSignal;
}

/** The upgrade was refused: the server's own Status says why (client-node loses this body). */
export class ExecRefusedError extends Error {
  constructor(readonly statusCode: number, readonly status: KubeStatus | undefined) {
    super(status?.message ?? `the API server refused the exec request with HTTP ${statusCode}`);
  }
}

/** The stream ended without an exit status: the connection broke or the container went away. */
export class ExecStreamBrokenError extends Error {}

/** The command could not run or the container stopped (a Failure status without an exit code). */
export class ExecFailedError extends Error {
  constructor(readonly status: KubeStatus) {
    super(status.message ?? 'the command failed in the container');
  }
}

/**
 * Runs a command in a container over the exec WebSocket, as `kubectl exec` does, but with backpressure:
 * the socket is paused while `stdout` is full, so memory stays flat whatever the volume size.
 * Resolves with the command's exit code.
 */
export async function execInPod(kubeConfig: KubeConfig, request: PodExecRequest): Promise<number> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no cluster for its current context');
  const query = new URLSearchParams({ container: request.container, stdout: 'true', stderr: 'true' });
  for (const part of request.command) query.append('command', part);
  if (request.stdin) query.set('stdin', 'true');
  const server = cluster.server.replace(/\/+$/, '').replace(/^http/, 'ws');
  const url = `${server}/api/v1/namespaces/${encodeURIComponent(request.namespace)}/pods/${encodeURIComponent(request.pod)}/exec?${query}`;
  const options: WebSocket.ClientOptions = { perMessageDeflate: false };
  await kubeConfig.applyToHTTPSOptions(options);
  request.signal?.throwIfAborted();

  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    let status: KubeStatus | undefined;
    let stdoutBlocked = false;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      request.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      ws.terminate();
      settle(() => reject(request.signal!.reason ?? new Error('aborted')));
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });

    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let body: KubeStatus | undefined;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        settle(() => reject(new ExecRefusedError(res.statusCode ?? 0, body)));
      });
    });
    ws.on('error', (e) => settle(() => reject(e)));
    ws.on('open', () => {
      if (request.stdin) sendStdin(ws, request.stdin, (e) => settle(() => reject(e)));
    });
    ws.on('message', (data: Buffer) => {
      if (!data.length) return;
      const payload = data.subarray(1);
      switch (data[0]) {
        case Channel.Stdout:
          // Frames already read keep arriving after pause(); wait for one drain, not one per frame.
          if (payload.length && !request.stdout.write(payload) && !stdoutBlocked) {
            stdoutBlocked = true;
            ws.pause();
            request.stdout.once('drain', () => {
              stdoutBlocked = false;
              ws.resume();
            });
          }
          break;
        case Channel.Stderr:
          if (payload.length) request.stderr(payload);
          break;
        case Channel.Status:
          try {
            status = JSON.parse(payload.toString('utf8'));
          } catch {
            status = { status: 'Failure', message: payload.toString('utf8') };
          }
          break;
      }
    });
    ws.on('close', (code) => {
      settle(() => {
        if (!status) return reject(new ExecStreamBrokenError(`the exec stream ended without an exit status (WebSocket close code ${code})`));
        if (status.status === 'Success') return resolve(0);
        const exitCause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
        if (status.reason === 'NonZeroExitCode' && exitCause?.message) return resolve(Number(exitCause.message));
        reject(new ExecFailedError(status));
      });
    });
  });
}

/** Streams stdin as channel-0 frames, pausing the source while the socket's buffer is full. */
function sendStdin(ws: WebSocket, stdin: Readable, fail: (e: Error) => void): void {
  if (ws.protocol !== 'v5.channel.k8s.io') {
    // Only v5 can tell the command that its input has ended; over v4 a command reading stdin would never finish.
    ws.terminate();
    fail(new Error(`the API server speaks ${ws.protocol || 'an old exec protocol'}, which cannot signal the end of input; Kubernetes 1.30 or newer is needed to send data into a pod`));
    return;
  }
  const highWater = 4 * 1024 * 1024;
  stdin.on('data', (chunk: Buffer) => {
    ws.send(Buffer.concat([Buffer.from([Channel.Stdin]), chunk]));
    if (ws.bufferedAmount > highWater) {
      stdin.pause();
      const wait = (): void => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > highWater / 2) setTimeout(wait, 5);
        else stdin.resume();
      };
      setTimeout(wait, 5);
    }
  });
  stdin.on('end', () => ws.send(Buffer.from([Channel.Close, Channel.Stdin])));
  stdin.on('error', fail);
}
