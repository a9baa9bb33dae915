import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants } from 'node:os';
import type { RawData, WebSocket } from 'ws';
import { LinkPacer, type ExecStreamBandwidth } from './execBandwidth';
import { execExitStatus, execInternalErrorStatus, type ExecStatus } from './execStatus';

/** Exec subprotocols the sandbox speaks, in the server's order of preference. */
export const EXEC_SUBPROTOCOLS: readonly string[] = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

const V5 = 'v5.channel.k8s.io';
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
/** v5 only: `[255, channel]` from the client closes that channel. */
const CLOSE_CHANNEL = 255;

/** Output is paused while more than this is waiting to be sent, so a slow client slows the command. */
const PAUSE_ABOVE_BYTES = 2 * 1024 * 1024;
const RESUME_BELOW_BYTES = 512 * 1024;
/** Output is gathered into frames of up to this much (see queueOut). */
const COALESCE_BYTES = 256 * 1024;

/** What kubelet reports when the container, and with it the exec'd command, is killed. */
const KILLED_EXIT_CODE = 128 + constants.signals.SIGKILL;

export interface ExecSessionOptions {
  /** The negotiated subprotocol, from {@link negotiateExecProtocol}. */
  protocol: string;
  /** The argv as requested, quoted back in the failure message. */
  command: readonly string[];
  /** Whether the request asked for stdin (`stdin=true`); otherwise the command's stdin is closed at once. */
  stdin: boolean;
  /** Fault: after this many stdout bytes, drop the connection without a close frame (a network cut). */
  cutAfterBytes?: number | (() => number | undefined);
  /** Asked when the cut would strike: false lets this stream through (a fault that cuts only so many streams). */
  cutStrikes?: () => boolean;
  /** Fault: flip the bits of the stdout byte at this offset, as a corrupting network path would. */
  corruptByteAt?: number;
  /** Asked when the flip would strike: false leaves this stream's bytes as they are. */
  corruptStrikes?: () => boolean;
  /** Fault: report this exit code instead of the command's own. */
  exitCodeOverride?: number;
  /** Holds the stream to a bandwidth each way, pausing the source; absent: as fast as the process and socket go. */
  bandwidth?: ExecStreamBandwidth;
  /** Aborted when the pod goes away: the command is killed and the session ends as on a dying container. */
  signal?: AbortSignal;
}

export interface ExecSessionResult {
  /** The exit code reported on the status channel; null when the session ended without one (client gone, cut). */
  exitCode: number | null;
  /** Stdout bytes sent to the client. */
  bytesOut: number;
}

/**
 * Picks the subprotocol from a client's offer (a Set from `ws`, or the raw header); undefined when none
 * is spoken. `spoken` narrows the server's own list, as an older API server speaks only v4.
 */
export function negotiateExecProtocol(offered: Iterable<string> | string | undefined, spoken: readonly string[] = EXEC_SUBPROTOCOLS): string | undefined {
  if (offered === undefined) return undefined;
  const names = new Set((typeof offered === 'string' ? offered.split(',') : [...offered]).map((name) => name.trim()));
  return EXEC_SUBPROTOCOLS.find((protocol) => spoken.includes(protocol) && names.has(protocol));
}

/**
 * Bridges an accepted exec WebSocket and the process running the command, as the API server and
 * kubelet do together: channel-prefixed binary frames, a Status on channel 3 once all output is
 * sent, then close 1000. Resolves once both the process and the socket are closed.
 */
export function runExecSession(ws: WebSocket, child: ChildProcessWithoutNullStreams, options: ExecSessionOptions): Promise<ExecSessionResult> {
  return new Promise((resolve) => {
    let bytesOut = 0;
    let exitCode: number | null = null;
    // Output stops while the socket's buffer is full or the bandwidth holds it; stdin the same way.
    let bufferFull = false;
    let outputFlowing = true;
    let discardOutput = false;
    let stdinOpen = options.stdin;
    let stdinBlocked = false;
    let inputFlowing = true;
    let aborted = false;
    let spawnError: Error | undefined;
    let childClosed = false;
    let socketClosed = false;

    // Output reaches the client, and stdin the command, only once the link has carried it; reading from the
    // socket waits meanwhile, so TCP slows the client, and the process's output is paused, so it slows too.
    const output = new LinkPacer(options.bandwidth?.output, () => updateOutput());
    const input = new LinkPacer(options.bandwidth?.input, () => updateInput());
    const isRunning = () => child.exitCode === null && child.signalCode === null && spawnError === undefined;
    const kill = () => {
      if (isRunning()) child.kill('SIGKILL');
    };
    const updateOutput = () => {
      const flowing = discardOutput || (!bufferFull && !output.held);
      if (flowing === outputFlowing) return;
      outputFlowing = flowing;
      for (const stream of [child.stdout, child.stderr]) {
        if (flowing) stream.resume();
        else stream.pause();
      }
    };
    // Output nobody will read is still drained, or the process could never close.
    const stopOutput = () => {
      discardOutput = true;
      output.drop();
    };
    const afterFlush = () => {
      if (bufferFull && (discardOutput || ws.bufferedAmount < RESUME_BELOW_BYTES)) {
        bufferFull = false;
        updateOutput();
      }
    };
    const send = (channel: number, payload: Buffer | Buffer[], flushed: () => void = afterFlush) => {
      const parts = Array.isArray(payload) ? payload : [payload];
      const frame = Buffer.allocUnsafe(parts.reduce((n, p) => n + p.length, 1));
      frame[0] = channel;
      let at = 1;
      for (const part of parts) at += part.copy(frame, at);
      ws.send(frame, { binary: true }, flushed);
      if (!bufferFull && ws.bufferedAmount > PAUSE_ABOVE_BYTES) {
        bufferFull = true;
        updateOutput();
      }
    };
    // Output that arrives in the same turn of the event loop goes out as one frame, as a relay reading into a
    // large buffer sends it: a frame per pipe read (gzip writes 8 KB at a time) cost this process more than the copy.
    let pendingOut: Buffer[] = [];
    let pendingBytes = 0;
    let flushScheduled = false;
    const flushOut = () => {
      flushScheduled = false;
      if (!pendingBytes) return;
      const parts = pendingOut;
      const bytes = pendingBytes;
      pendingOut = [];
      pendingBytes = 0;
      if (!discardOutput) output.pass(bytes, () => send(STDOUT, parts));
    };
    const queueOut = (chunk: Buffer) => {
      pendingOut.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= COALESCE_BYTES) flushOut();
      else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushOut);
      }
    };
    const updateInput = () => {
      const flowing = !stdinBlocked && !input.held;
      if (flowing === inputFlowing) return;
      inputFlowing = flowing;
      if (flowing) ws.resume();
      else ws.pause();
    };
    const unblockStdin = () => {
      if (!stdinBlocked) return;
      stdinBlocked = false;
      updateInput();
    };
    const writeStdin = (data: Buffer) => {
      if (stdinOpen && !child.stdin.write(data) && !stdinBlocked) {
        stdinBlocked = true;
        updateInput();
      }
    };
    const onAbort = () => {
      if (!isRunning()) return;
      aborted = true;
      kill();
    };
    const finish = () => {
      if (!childClosed || !socketClosed) return;
      output.drop();
      input.drop();
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ exitCode, bytesOut });
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (discardOutput) return;
      // Looked up as the bytes flow when given as a function, so a cut injected mid-stream strikes this stream too.
      let cutAt = typeof options.cutAfterBytes === 'function' ? options.cutAfterBytes() : options.cutAfterBytes;
      // A counted cut that has struck enough lets this stream run on, to its end.
      if (cutAt !== undefined && bytesOut + chunk.length >= cutAt && options.cutStrikes?.() === false) cutAt = options.cutAfterBytes = undefined;
      if (cutAt !== undefined && bytesOut + chunk.length >= cutAt) {
        // A cut injected after the stream passed its mark strikes at once.
        const last = chunk.subarray(0, Math.max(0, cutAt - bytesOut));
        bytesOut += last.length;
        flushOut();
        output.release();
        stopOutput();
        kill();
        send(STDOUT, last, () => ws.terminate());
        return;
      }
      const flip = options.corruptByteAt;
      if (flip !== undefined && flip >= bytesOut && flip < bytesOut + chunk.length && options.corruptStrikes?.() !== false) {
        chunk = Buffer.from(chunk);
        chunk[flip - bytesOut] ^= 0xff;
      }
      bytesOut += chunk.length;
      queueOut(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (discardOutput) return;
      flushOut();
      output.pass(chunk.length, () => send(STDERR, chunk));
    });

    if (!stdinOpen) child.stdin.end();
    // EPIPE when the command exits without reading all its input; a real server drops that input too.
    child.stdin.on('error', () => {
      stdinOpen = false;
    });
    child.stdin.on('close', unblockStdin);
    child.stdin.on('drain', unblockStdin);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) return;
      const frame = toBuffer(data);
      if (frame[0] === STDIN && frame.length > 1) {
        input.pass(frame.length - 1, () => writeStdin(frame.subarray(1)));
      } else if (frame[0] === CLOSE_CHANNEL && frame[1] === STDIN && options.protocol === V5) {
        input.pass(0, () => {
          if (!stdinOpen) return;
          stdinOpen = false;
          child.stdin.end();
        });
      }
    });

    // 'error' is always followed by 'close', where the session ends.
    ws.on('error', () => undefined);
    ws.on('close', () => {
      socketClosed = true;
      // What the client sent before closing was on its way and still reaches the command.
      input.release();
      if (!childClosed) {
        stopOutput();
        kill();
      }
      finish();
    });

    child.on('error', (error) => {
      if (child.pid === undefined) spawnError = error;
    });
    // 'close' comes after the exit and the end of stdout and stderr, so every byte is sent before the status.
    child.on('close', (code, signal) => {
      childClosed = true;
      unblockStdin();
      // The status follows the output over the link, so it arrives after the last byte.
      flushOut();
      output.pass(0, () => {
        if (discardOutput || ws.readyState !== ws.OPEN) return;
        let status: ExecStatus;
        if (spawnError) {
          status = execInternalErrorStatus(`failed to start the command: ${spawnError.message}`);
        } else {
          exitCode = aborted ? KILLED_EXIT_CODE : (options.exitCodeOverride ?? code ?? 128 + (constants.signals[signal ?? 'SIGKILL'] ?? 9));
          status = execExitStatus(options.command, exitCode);
        }
        send(STATUS, Buffer.from(JSON.stringify(status)));
        ws.close(1000);
      });
      finish();
    });

    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    if (ws.readyState === ws.OPEN) {
      // The real server opens with an empty stdout frame.
      send(STDOUT, Buffer.alloc(0));
    } else {
      socketClosed = true;
      stopOutput();
      kill();
    }
  });
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
