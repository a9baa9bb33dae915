import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Images whose userland is BusyBox, so GNU-only flags fail there. */
const BUSYBOX_IMAGE = /^(docker\.io\/)?(library\/)?(alpine|busybox)(:|@|$)/;

const HOST_BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

export function imageUsesBusybox(image: string): boolean {
  return BUSYBOX_IMAGE.test(image);
}

/** The host's BusyBox binary, if the `busybox` or `busybox-static` package is installed. */
export function findHostBusybox(): string | undefined {
  return HOST_BUSYBOX_CANDIDATES.find((path) => existsSync(path));
}

/**
 * A folder of applet symlinks (`tar -> /usr/bin/busybox`, ...) for the given binary, created once
 * under `stateDir`. The links point at the host path, which the private root shares through /usr.
 * The folder name follows the binary's size and time, so an upgraded BusyBox gets a fresh list.
 */
export function ensureBusyboxApplets(stateDir: string, busybox: string): string {
  const { size, mtimeMs } = statSync(busybox);
  const folder = join(stateDir, `busybox-applets-${size}-${Math.floor(mtimeMs)}`);
  if (existsSync(folder)) return folder;

  const listed = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`${busybox} --list failed: ${listed.stderr || listed.error?.message || `exit ${listed.status}`}`);
  const applets = listed.stdout.split('\n').filter((name) => name !== '' && !name.includes('/'));

  // Built aside and renamed into place, so concurrent execs never see a half-filled folder.
  const building = mkdtempSync(join(stateDir, '.busybox-applets-'));
  try {
    // mkdtemp makes it 0700; non-root commands must be able to search it.
    chmodSync(building, 0o755);
    for (const name of [...applets, 'busybox']) symlinkSync(busybox, join(building, name));
    renameSync(building, folder);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(folder)) throw error;
  }
  return folder;
}
