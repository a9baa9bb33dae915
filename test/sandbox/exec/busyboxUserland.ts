import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const HOST_BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

/** Where test/sandbox/busybox/buildAlpineBusybox.sh leaves its builds (one folder per Debian version). */
export function alpineBusyboxCache(): string {
  return process.env.NKVM_BUSYBOX_CACHE || '/var/cache/nkvm-sandbox/busybox';
}

/** BusyBox built with Alpine's archival options (tar -X/-T/--exclude, gzip -1..-9), when the build script has run. */
export function findAlpineBusybox(): string | undefined {
  let builds: string[];
  try {
    builds = readdirSync(alpineBusyboxCache()).filter((name) => name.endsWith('-alpine')).sort();
  } catch {
    return undefined;
  }
  return builds.map((name) => join(alpineBusyboxCache(), name, 'busybox')).reverse().find((path) => existsSync(path));
}

let warnedDebianBusybox = false;

/**
 * The BusyBox that alpine containers get: the Alpine-like build when there is one, else Debian's
 * `busybox` or `busybox-static` package, whose tar lacks -X, -T and --exclude and whose gzip lacks -1..-9.
 */
export function findHostBusybox(): string | undefined {
  const alpine = findAlpineBusybox();
  if (alpine) return alpine;
  const debian = HOST_BUSYBOX_CANDIDATES.find((path) => existsSync(path));
  if (debian && !warnedDebianBusybox) {
    warnedDebianBusybox = true;
    process.emitWarning(`alpine containers in the sandbox use Debian's BusyBox (${debian}), whose tar lacks -X, -T and --exclude; run test/sandbox/busybox/buildAlpineBusybox.sh for Alpine's`);
  }
  return debian;
}

/**
 * A folder holding a copy of the given BusyBox binary and its applet links (`tar -> busybox`, ...),
 * created once under `stateDir`. The links are relative, so they resolve inside a private root where
 * the folder is mounted, wherever the binary lives on the host. The folder name follows the binary's
 * size and time, so an upgraded BusyBox gets a fresh list. Applets named in `without` are left out, as
 * in an image built without them.
 */
export function ensureBusyboxApplets(stateDir: string, busybox: string, without: readonly string[] = []): string {
  const { size, mtimeMs } = statSync(busybox);
  const folder = join(stateDir, `busybox-applets-${size}-${Math.floor(mtimeMs)}${without.length ? `-without-${without.join('-')}` : ''}`);
  if (existsSync(folder)) return folder;

  const listed = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`${busybox} --list failed: ${listed.stderr || listed.error?.message || `exit ${listed.status}`}`);
  const applets = listed.stdout.split('\n').filter((name) => name !== '' && !name.includes('/') && name !== 'busybox' && !without.includes(name));

  // Built aside and renamed into place, so concurrent execs never see a half-filled folder.
  const building = mkdtempSync(join(stateDir, '.busybox-applets-'));
  try {
    // mkdtemp makes it 0700; non-root commands must be able to search it.
    chmodSync(building, 0o755);
    copyFileSync(busybox, join(building, 'busybox'));
    chmodSync(join(building, 'busybox'), 0o755);
    for (const name of applets) symlinkSync('busybox', join(building, name));
    renameSync(building, folder);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(folder)) throw error;
  }
  return folder;
}
