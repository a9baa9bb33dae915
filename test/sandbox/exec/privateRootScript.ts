import { shellQuote } from './shellQuote';

/** A volume as the setup script mounts it; paths are already validated. */
export interface RootVolume {
  hostPath: string;
  mountPath: string;
  readOnly: boolean;
  /** Kubernetes can mount single files (subPath, projected items); those need a file to bind onto. */
  isDirectory: boolean;
}

export interface PrivateRootPlan {
  /** An empty host folder; the tmpfs root is mounted on it inside the private mount namespace only. */
  root: string;
  volumes: RootVolume[];
  /** A host folder of BusyBox applet links, mounted at {@link BUSYBOX_APPLET_DIR}. */
  busyboxApplets?: string;
  /** The user and group the command runs as; undefined keeps the namespace's root. */
  user?: { uid: number; gid: number; groups?: number[] };
  /**
   * The container's capabilities as `setpriv` names them (`chown`, `dac_override`...): they become the
   * bounding set, which is what a root process gets on exec; a non-root process gets none, as in Kubernetes.
   * Undefined keeps every capability (a private root that is no container's).
   */
  capabilities?: string[];
  /** `allowPrivilegeEscalation: false`: no setuid binary or file capability can raise privileges. */
  noNewPrivs?: boolean;
  /** `readOnlyRootFilesystem: true`: only the volumes (and /dev) stay writable. */
  readOnlyRoot?: boolean;
  /**
   * The command replaces this script as PID 1, as a container's main process is, and `started` is written
   * to fd 3 just before; otherwise it runs as PID 2, as exec'd commands do.
   */
  asInit?: boolean;
  workingDir: string;
  /** The command's whole environment, in order (PATH first). */
  env: [string, string][];
}

/** Host folders shared into every private root. They are remounted read-only except /dev (terminals, shm). */
export const SHARED_SYSTEM_DIRS = ['bin', 'sbin', 'lib', 'lib64', 'usr', 'etc', 'dev'] as const;

/** Where the BusyBox applets appear inside the root; outside any folder an image or volume would use. */
export const BUSYBOX_APPLET_DIR = '/.sandbox-busybox';

/** Exit code of a failed setup step, the code container runtimes use when a command cannot be started. */
export const SETUP_FAILURE_EXIT_CODE = 126;

/**
 * The `sh` script that builds the private root and runs the command in it. It expects to run as
 * PID 1 of fresh mount and PID namespaces, and the command argv as its positional parameters.
 * The command runs as a child rather than through `exec`: as PID 1 it would ignore signals it has
 * no handler for, unlike a command exec'd into a real container.
 */
export function buildPrivateRootScript(plan: PrivateRootPlan): string {
  const q = shellQuote;
  const at = (path: string) => `"$root"${q(path)}`;
  const lines = [
    'set -u',
    `die() { printf 'sandbox exec: %s\\n' "$*" >&2; exit ${SETUP_FAILURE_EXIT_CODE}; }`,
    `root=${q(plan.root)}`,
    `mount -t tmpfs -o mode=0755 sandbox-root "$root" || die "cannot mount a tmpfs on $root"`,
    `for d in ${SHARED_SYSTEM_DIRS.join(' ')}; do`,
    // Merged-/usr hosts make /bin a symlink; copying the link keeps the layout the binaries expect.
    '  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d" || die "cannot link /$d"',
    '  elif [ -d "/$d" ]; then { mkdir "$root/$d" && mount --rbind "/$d" "$root/$d"; } || die "cannot bind /$d"',
    '  fi',
    '  if [ "$d" != dev ] && [ ! -L "$root/$d" ] && [ -d "$root/$d" ]; then',
    '    mount -o remount,bind,ro "$root/$d" || die "cannot make /$d read-only"',
    '  fi',
    'done',
    // A fresh proc shows only the command's own processes, as in a container.
    '{ mkdir "$root/proc" && mount -t proc proc "$root/proc"; } || die "cannot mount /proc"',
    '{ mkdir -m 1777 "$root/tmp" && mkdir -p -m 0755 "$root/var" && mkdir -m 1777 "$root/var/tmp" && mkdir -m 0700 "$root/root"; } || die "cannot create the root folders"',
  ];
  for (const volume of plan.volumes) {
    const target = at(volume.mountPath);
    const makeTarget = volume.isDirectory ? `mkdir -p ${target}` : `mkdir -p "$(dirname ${target})" && : > ${target}`;
    lines.push(`{ ${makeTarget} && mount --bind ${q(volume.hostPath)} ${target}; } || die ${q(`cannot mount ${volume.mountPath}`)}`);
  }
  // Read-only only after every bind, so a volume nested in a read-only one still gets its mount point.
  for (const volume of plan.volumes.filter((v) => v.readOnly)) {
    lines.push(`mount -o remount,bind,ro ${at(volume.mountPath)} || die ${q(`cannot make ${volume.mountPath} read-only`)}`);
  }
  if (plan.busyboxApplets) {
    const target = at(BUSYBOX_APPLET_DIR);
    lines.push(`{ mkdir ${target} && mount --bind ${q(plan.busyboxApplets)} ${target} && mount -o remount,bind,ro ${target}; } || die 'cannot mount the BusyBox applets'`);
  }
  if (plan.readOnlyRoot) lines.push('mount -o remount,ro "$root" || die "cannot make the root filesystem read-only"');
  const env = plan.env.map(([name, value]) => q(`${name}=${value}`)).join(' ');
  const privileges = setprivArgs(plan);
  lines.push('chroot_bin=$(command -v chroot) || die "chroot is not installed"');
  if (privileges.length) lines.push('setpriv_bin=$(command -v setpriv) || die "setpriv (util-linux) is not installed"');
  // setpriv runs inside the root (it is under the shared /usr), after chroot, which needs CAP_SYS_CHROOT.
  const dropPrivileges = privileges.length ? ` "$setpriv_bin" ${privileges.map(q).join(' ')} --` : '';
  const run = `env -i ${env} "$chroot_bin" -- "$root"${dropPrivileges} /bin/sh -c 'cd -- "$0" && unset OLDPWD PWD && exec "$@"' ${q(plan.workingDir)} "$@"`;
  // A container's main process tells its runtime it has started (fd 3, then closed), as runc does before
  // StartContainer returns; a SIGTERM before then stops the container as it starts, as if it had no handler.
  if (plan.asInit) lines.push(`trap 'exit 143' TERM`, `{ printf started >&3; } 2>/dev/null; exec 3>&-`, `trap - TERM`, `exec ${run}`);
  // Not the last command, so dash cannot exec it in place of this PID 1.
  else lines.push(run, 'exit $?');
  return lines.join('\n') + '\n';
}

function setprivArgs(plan: PrivateRootPlan): string[] {
  const args: string[] = [];
  if (plan.user) args.push(`--regid=${plan.user.gid}`, `--groups=${[plan.user.gid, ...(plan.user.groups ?? [])].join(',')}`, `--reuid=${plan.user.uid}`);
  if (plan.capabilities) {
    const caps = plan.capabilities.map((c) => `,+${c}`).join('');
    args.push(`--bounding-set=-all${caps}`, '--inh-caps=-all');
  }
  if (plan.noNewPrivs) args.push('--no-new-privs');
  return args;
}
