import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** A history writer in its own process, as another VS Code window or `nkvm` run would be. */
export interface ChildWriter {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Ids the child printed, each one after the store told it the record was saved. */
  readonly ids: number[];
  stderr(): string;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

export interface ChildLockOptions {
  readonly staleMs: number;
  readonly timeoutMs: number;
}

export function startChildWriter(dbPath: string, name: string, count: number, lock: ChildLockOptions): ChildWriter {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'lineWriter.ts'), dbPath, name, String(count), String(lock.staleMs), String(lock.timeoutMs)],
    { cwd: path.resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (child.pid === undefined) {
    throw new Error(`could not start the writer ${name}`);
  }
  const ids: number[] = [];
  let pending = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    ids.push(...lines.filter((line) => line !== '').map(Number));
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? signal!));
  });
  return { process: child, pid: child.pid, ids, stderr: () => stderr, exited };
}
