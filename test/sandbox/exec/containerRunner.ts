import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { checkExecutable, imageUserland, userlandTools } from './imageUserland';
import { BUSYBOX_APPLET_DIR, buildPrivateRootScript, SETUP_FAILURE_EXIT_CODE, SHARED_SYSTEM_DIRS, type RootVolume } from './privateRootScript';

export interface ContainerMount {
  /** The folder (or file) on this machine that holds the volume's data. */
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
}

export interface ContainerProcessSpec {
  command: string[];
  image: string;
  mounts: ContainerMount[];
  runAsUser?: number;
  runAsGroup?: number;
  /** The pod's supplementalGroups and fsGroup, added to the process's groups as the kubelet does. */
  supplementalGroups?: number[];
  env?: Record<string, string>;
  workingDir?: string;
  /** The command is the image's own entrypoint, which every image has, with or without a shell. */
  entrypointFromImage?: boolean;
  /** A folder the sandbox owns; private roots are created (and removed) under it. */
  stateDir: string;
  /** The cgroup.procs files of the container's cgroups (see cpuLimit.ts); the process joins them before anything runs. */
  cgroupProcs?: string[];
  /** The container's capabilities as setpriv names them (see capabilities.ts); undefined keeps all of them. */
  capabilities?: string[];
  noNewPrivs?: boolean;
  readOnlyRootFilesystem?: boolean;
  /**
   * Run as the PID 1 of its namespace, as a container's main process: it then ignores signals it has no
   * handler for. `started` arrives on the child's fd 3 (`child.stdio[3]`) once the command is about to run.
   */
  asInit?: boolean;
}

/** Where the setup script finds mount and chroot on the host. */
const STANDARD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Run as `sh -c SCRIPT sh <count> <cgroup.procs...> <argv...>`; fails as a command that cannot be started would. */
const JOIN_CGROUP_SCRIPT = `n=$1; shift
while [ "$n" -gt 0 ]; do
  { echo $$ > "$1"; } 2>/dev/null || { echo "sandbox exec: cannot join the cgroup $1" >&2; exit ${SETUP_FAILURE_EXIT_CODE}; }
  shift; n=$((n - 1))
done
exec "$@"
`;

/** Mount paths that would land on the host's own folders through the shared system binds. */
const RESERVED_MOUNT_PATHS = [...SHARED_SYSTEM_DIRS.map((d) => `/${d}`), '/proc', BUSYBOX_APPLET_DIR];

/**
 * Runs `spec.command` as if exec'd into a container: the pod's volumes appear at their mount paths
 * in a private root (tmpfs plus read-only host system folders) that exists only in the command's
 * own mount namespace, so nothing it does to `/` reaches the host.
 *
 * The exit code is the command's; a command killed by signal N exits 128+N, as kubelet reports it.
 * Stop it with SIGKILL: that ends the whole process tree (its PID namespace dies with it), while
 * `unshare` ignores SIGTERM.
 */
export function spawnInContainer(spec: ContainerProcessSpec): ChildProcessWithoutNullStreams {
  if (spec.command.length === 0) throw new Error('exec needs a command');
  const volumes = planVolumes(spec.mounts);
  const workingDir = spec.workingDir ?? '/';
  if (!posix.isAbsolute(workingDir)) throw new Error(`workingDir must be an absolute path, got ${JSON.stringify(workingDir)}`);
  for (const id of [spec.runAsUser, spec.runAsGroup, ...(spec.supplementalGroups ?? [])]) {
    if (id !== undefined && !(Number.isInteger(id) && id >= 0)) throw new Error(`runAsUser and runAsGroup must be non-negative integers, got ${id}`);
  }
  const { unshare, flags } = namespaceCommand(spec);

  mkdirSync(spec.stateDir, { recursive: true, mode: 0o700 });
  const userland = imageUserland(spec.image);
  const tools = userlandTools(userland, spec.stateDir, BUSYBOX_APPLET_DIR);
  const busyboxApplets = tools.toolsDir;
  const uid = spec.runAsUser ?? 0;
  // No LANG or LC_*: a container runs in the C locale unless its image or pod sets one.
  const env = new Map<string, string>([
    ['PATH', tools.path],
    ['HOME', uid === 0 ? '/root' : '/'],
  ]);
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    if (name === '' || name.includes('=')) throw new Error(`invalid environment variable name ${JSON.stringify(name)}`);
    env.set(name, value);
  }
  if (!spec.entrypointFromImage) checkExecutable(userland, spec.command[0]!, env.get('PATH')!, tools, BUSYBOX_APPLET_DIR);

  const root = mkdtempSync(join(spec.stateDir, 'root-'));
  const script = buildPrivateRootScript({
    root,
    volumes,
    busyboxApplets,
    user:
      spec.runAsUser === undefined && spec.runAsGroup === undefined && !spec.supplementalGroups?.length
        ? undefined
        : { uid, gid: spec.runAsGroup ?? 0, groups: spec.supplementalGroups },
    capabilities: spec.capabilities,
    noNewPrivs: spec.noNewPrivs,
    readOnlyRoot: spec.readOnlyRootFilesystem,
    asInit: spec.asInit,
    workingDir,
    env: [...env],
  });
  let removed = false;
  const removeRoot = () => {
    if (removed) return;
    removed = true;
    // rmdir, never a recursive delete: if a mount ever escaped the namespace, recursion would delete volume data.
    try {
      rmdirSync(root);
    } catch (error) {
      // Gone with the whole state folder, when the sandbox's data is removed while the process ends.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      process.emitWarning(`sandbox exec could not remove its private root ${root}: ${(error as Error).message}`);
    }
  };
  let child: ChildProcessWithoutNullStreams;
  try {
    const argv = [unshare, ...flags, '--', '/bin/sh', '-c', script, 'sh', ...spec.command];
    // The shell moves itself into the cgroup, then becomes unshare: every process after it starts inside.
    // Writing the child's pid from here instead would race with the processes it forks meanwhile.
    const procs = spec.cgroupProcs ?? [];
    const joined = procs.length ? ['/bin/sh', '-c', JOIN_CGROUP_SCRIPT, 'sh', String(procs.length), ...procs, ...argv] : argv;
    // A main process reports on fd 3 when its command starts (see buildPrivateRootScript).
    child = spawn(joined[0]!, joined.slice(1), { env: { PATH: STANDARD_PATH }, stdio: spec.asInit ? ['pipe', 'pipe', 'pipe', 'pipe'] : 'pipe' }) as ChildProcessWithoutNullStreams;
  } catch (error) {
    removeRoot();
    throw error;
  }
  child.once('exit', removeRoot);
  child.once('error', removeRoot);
  return child;
}

/** Validates mount paths as Kubernetes does, plus what keeps the sandbox from writing to the host. */
function planVolumes(mounts: ContainerMount[]): RootVolume[] {
  const seen = new Set<string>();
  for (const { mountPath } of mounts) {
    if (!posix.isAbsolute(mountPath) || posix.normalize(mountPath) !== mountPath || mountPath === '/' || mountPath.endsWith('/')) {
      throw new Error(`mountPath must be a normalized absolute path other than /, got ${JSON.stringify(mountPath)}`);
    }
    const reserved = RESERVED_MOUNT_PATHS.find((r) => mountPath === r || mountPath.startsWith(`${r}/`));
    if (reserved) throw new Error(`mountPath ${mountPath} is under ${reserved}, which the sandbox shares with the host`);
    if (seen.has(mountPath)) throw new Error(`mountPath ${mountPath} is used twice`);
    seen.add(mountPath);
  }
  // Parents first, so a nested volume's mount point is created inside its parent volume.
  const ordered = [...mounts].sort((a, b) => a.mountPath.split('/').length - b.mountPath.split('/').length);
  return ordered.map((mount, i) => {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(mount.hostPath).isDirectory();
    } catch {
      throw new Error(`the data of the volume at ${mount.mountPath} is missing: ${mount.hostPath} does not exist`);
    }
    const parent = ordered.slice(0, i).reverse().find((p) => mount.mountPath.startsWith(`${p.mountPath}/`));
    if (parent) refuseSymlinksBelow(parent, mount.mountPath);
    return { ...mount, isDirectory };
  });
}

/**
 * The setup script creates a nested mount point outside the chroot, so a symlink inside the parent
 * volume would be followed on the host. Real runtimes resolve it inside the container instead.
 */
function refuseSymlinksBelow(parent: ContainerMount, mountPath: string): void {
  let hostPath = parent.hostPath;
  for (const part of mountPath.slice(parent.mountPath.length + 1).split('/')) {
    hostPath = join(hostPath, part);
    if (isSymlink(hostPath)) throw new Error(`cannot mount at ${mountPath}: ${hostPath} in the volume at ${parent.mountPath} is a symlink`);
    if (!existsSync(hostPath)) return;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function findUnshare(): string {
  const found = ['/usr/bin/unshare', '/bin/unshare'].find((path) => existsSync(path));
  if (!found) throw new Error('exec in the sandbox cluster needs Linux mount namespaces: the unshare command (util-linux) is not installed');
  return found;
}

/** As root, plain namespaces; elsewhere a user namespace maps the caller to root, when the kernel allows it. */
function namespaceCommand(spec: ContainerProcessSpec): { unshare: string; flags: string[] } {
  if (process.platform !== 'linux') throw new Error(`exec in the sandbox cluster needs Linux mount namespaces; this is ${process.platform}`);
  const unshare = findUnshare();
  const common = ['--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private'];
  if (process.getuid?.() === 0) return { unshare, flags: common };

  const flags = ['--map-root-user', ...common];
  const probe = spawnSync(unshare, [...flags, '--', '/bin/true'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const why = probe.stderr.trim() || probe.error?.message || `exit ${probe.status}`;
    throw new Error(`exec in the sandbox cluster needs Linux mount namespaces: run the tests as root or allow unprivileged user namespaces (${why})`);
  }
  // A user namespace made by an ordinary user maps only that one id, so no other user can be switched to.
  if ((spec.runAsUser ?? 0) !== 0 || (spec.runAsGroup ?? 0) !== 0) {
    throw new Error(`runAsUser/runAsGroup ${spec.runAsUser ?? 0}:${spec.runAsGroup ?? 0} in the sandbox cluster needs the tests to run as root`);
  }
  return { unshare, flags };
}

/**
 * Sends a signal to the PID 1 of a process started by {@link spawnInContainer}, as a container runtime
 * stops a container: the kernel delivers it only if that process handles the signal. `unshare` itself
 * ignores SIGTERM, so the signal goes to the child it forked. Returns false when that child is gone.
 */
export function signalContainerInit(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  let pids: number[];
  try {
    pids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return false;
  }
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      // Exited meanwhile.
    }
  }
  return false;
}
