import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_MOUNT } from '../../../src/core/backup/helperPodSpec';
import { ensureBusyboxApplets, findAlpineBusybox } from '../../sandbox/exec/busyboxUserland';

export type Userland = 'busybox' | 'gnu';

/** Alpine's BusyBox applets (test/sandbox/busybox/buildAlpineBusybox.sh), or undefined when not built here. */
export function busyboxApplets(): string | undefined {
  const busybox = findAlpineBusybox();
  if (!busybox) return undefined;
  const state = join(tmpdir(), 'nkvm-incremental-busybox');
  mkdirSync(state, { recursive: true });
  return ensureBusyboxApplets(state, busybox);
}

/** PATH for a userland: BusyBox applets only, as an alpine image has them, or the host's GNU tools. */
export function userlandPath(userland: Userland): string {
  if (userland === 'gnu') return '/usr/local/bin:/usr/bin:/bin';
  const applets = busyboxApplets();
  if (!applets) throw new Error('Alpine BusyBox is not built: run test/sandbox/busybox/buildAlpineBusybox.sh');
  return applets;
}

/**
 * Runs a helper command (`sh -c script ...`) on this machine with `root` in place of the pod's data mount,
 * with no locale set, as containers run it.
 */
export function runHelperCommand(
  command: readonly string[],
  root: string,
  userland: Userland,
  input?: Buffer,
  uid?: number,
): { stdout: Buffer; stderr: string; status: number } {
  const [shell, flag, script, ...args] = command;
  const local = script!.replace(`cd ${DATA_MOUNT} ||`, `cd '${root.replace(/'/g, `'\\''`)}' ||`);
  const path = userlandPath(userland);
  const sh = userland === 'busybox' ? join(path, shell!) : shell!;
  const run = spawnSync(sh, [flag!, local, ...args], { input, env: { PATH: path }, maxBuffer: 1024 * 1024 * 1024, ...(uid !== undefined ? { uid, gid: uid } : {}) });
  if (run.error) throw run.error;
  return { stdout: run.stdout, stderr: run.stderr.toString('utf8'), status: run.status ?? -1 };
}

/** `tar` of a userland, run with no locale set. */
export function runTar(userland: Userland, args: readonly string[], cwd: string): { stdout: Buffer; stderr: string; status: number } {
  const path = userlandPath(userland);
  const run = spawnSync(userland === 'busybox' ? join(path, 'tar') : 'tar', args, { cwd, env: { PATH: path }, maxBuffer: 1024 * 1024 * 1024 });
  if (run.error) throw run.error;
  return { stdout: run.stdout, stderr: run.stderr.toString('utf8'), status: run.status ?? -1 };
}
