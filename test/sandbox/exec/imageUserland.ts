import { chmodSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBusyboxApplets, findHostBusybox } from './busyboxUserland';

/**
 * The tools an image family brings, as far as the sandbox emulates them:
 * - `busybox`: alpine and busybox images (any registry or tag), and distroless `:debug` tags: BusyBox applets first on PATH;
 * - `gnu`: debian, ubuntu, UBI (ubi8/ubi9, ubi-minimal included) and any other image: the host's GNU tools;
 * - `shell-without-tar`: {@link NO_TAR_IMAGE}, a BusyBox shell with no tar and no gzip on PATH;
 * - `gnu-without-tar`: Red Hat UBI minimal and micro images, which ship bash and coreutils but no tar
 *   (so `kubectl cp` fails on them too): the host's GNU tools without tar;
 * - `no-shell`: distroless, scratch and pause images: no command but the image's own entrypoint can start.
 * Every family runs with no LANG or LC_* set, as containers do.
 */
export type ImageUserland = 'busybox' | 'gnu' | 'shell-without-tar' | 'gnu-without-tar' | 'no-shell';

/**
 * A sandbox-only image (`sandbox.nkvm.test/no-tar:1`, any tag) with a shell but without tar and gzip, so
 * the path where a helper image lacks them can be tested. No real registry serves it.
 */
export const NO_TAR_IMAGE = 'sandbox.nkvm.test/no-tar';

/** What the no-tar image leaves out of its BusyBox. */
const NO_TAR_MISSING = ['tar', 'gzip', 'gunzip', 'zcat'];

interface ImageName {
  registry?: string;
  path: string;
  tag?: string;
}

/** `registry/path:tag@digest` into its parts; the first component is a registry when it looks like a host. */
export function parseImageName(image: string): ImageName {
  const withoutDigest = image.split('@')[0]!;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const tag = colon > slash ? withoutDigest.slice(colon + 1) : undefined;
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  const parts = name.split('/');
  const first = parts[0]!;
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  return { registry: hasRegistry ? first : undefined, path: (hasRegistry ? parts.slice(1) : parts).join('/'), tag };
}

export function imageUserland(image: string): ImageUserland {
  const { registry, path, tag } = parseImageName(image);
  const last = path.split('/').pop() ?? '';
  if (`${registry}/${path}` === NO_TAR_IMAGE) return 'shell-without-tar';
  // distroless :debug tags add BusyBox (with sh) for debugging; the others have no shell at all.
  if (path.startsWith('distroless/')) return tag?.includes('debug') ? 'busybox' : 'no-shell';
  if (last === 'scratch' || last === 'pause' || path === 'chainguard/static') return 'no-shell';
  if (last === 'alpine' || last === 'busybox') return 'busybox';
  if (/^ubi\d*-(minimal|micro)$/.test(last) || /^ubi\d*\/ubi-(minimal|micro)$/.test(path)) return 'gnu-without-tar';
  return 'gnu';
}

/** The PATH a stock Linux image sets. */
export const STANDARD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The tools folder to mount (host path) and the PATH that puts it to use, for an image family with a shell. */
export interface UserlandTools {
  toolsDir?: string;
  path: string;
}

export function userlandTools(userland: ImageUserland, stateDir: string, toolsMountPath: string): UserlandTools {
  if (userland === 'busybox') {
    const busybox = findHostBusybox();
    if (!busybox) return { path: STANDARD_PATH };
    return { toolsDir: ensureBusyboxApplets(stateDir, busybox), path: `${toolsMountPath}:${STANDARD_PATH}` };
  }
  if (userland === 'shell-without-tar') {
    const busybox = findHostBusybox();
    if (!busybox) {
      throw new Error(`${NO_TAR_IMAGE} in the sandbox needs BusyBox: run test/sandbox/busybox/buildAlpineBusybox.sh or install busybox`);
    }
    // Only its own applets on PATH: the host's /usr/bin would bring tar back.
    return { toolsDir: ensureBusyboxApplets(stateDir, busybox, NO_TAR_MISSING), path: toolsMountPath };
  }
  if (userland === 'gnu-without-tar') return { toolsDir: ensureHostTools(stateDir, GNU_NO_TAR_MISSING), path: toolsMountPath };
  return { path: STANDARD_PATH };
}

/** What UBI minimal leaves out of the host's GNU tools. */
const GNU_NO_TAR_MISSING = ['tar'];

/**
 * A folder of links to the host's own programs (`/usr/bin/x`, `/usr/sbin/x`), all but `without`: on PATH
 * alone it stands for an image that lacks those tools. The links are absolute and resolve inside the
 * container, which shares the host's system folders.
 */
function ensureHostTools(stateDir: string, without: readonly string[]): string {
  const folder = join(stateDir, `host-tools-without-${without.join('-')}`);
  if (existsSync(folder)) return folder;
  const building = mkdtempSync(join(stateDir, '.host-tools-'));
  try {
    chmodSync(building, 0o755);
    for (const dir of ['/usr/sbin', '/usr/bin']) {
      for (const name of readdirSync(dir)) {
        if (!without.includes(name) && !existsSync(join(building, name))) symlinkSync(join(dir, name), join(building, name));
      }
    }
    renameSync(building, folder);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(folder)) throw error;
  }
  return folder;
}

/** runc's reason a command cannot start; container runtimes wrap it in their own words. */
export class ExecutableNotFoundError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

/**
 * Throws what runc reports when the command is missing from the image: for a name, a PATH lookup that
 * finds nothing; for a path in an image without a shell, the failed stat. Commands the sandbox cannot
 * judge (paths into volumes, PATHs naming other folders) are left to run.
 */
export function checkExecutable(
  userland: ImageUserland,
  command: string,
  path: string,
  tools: UserlandTools,
  toolsMountPath: string,
): void {
  if (command.includes('/')) {
    if (userland === 'no-shell') throw new ExecutableNotFoundError(`exec: "${command}": stat ${command}: no such file or directory`);
    return;
  }
  const notFound = new ExecutableNotFoundError(`exec: "${command}": executable file not found in $PATH`);
  if (userland === 'no-shell') throw notFound;
  const dirs = path.split(':').filter(Boolean);
  const hostDirs: string[] = [];
  for (const dir of dirs) {
    if (dir === toolsMountPath && tools.toolsDir) hostDirs.push(tools.toolsDir);
    else if (STANDARD_PATH.split(':').includes(dir)) hostDirs.push(dir);
    else return;
  }
  if (!hostDirs.some((dir) => isExecutableFile(join(dir, command)))) throw notFound;
}

function isExecutableFile(path: string): boolean {
  try {
    // Applet links are relative to their folder and resolve on the host too.
    return existsSync(path) && statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}
