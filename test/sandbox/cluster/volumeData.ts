import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a new volume looks like when the pod first mounts it: a block device formatted ext4 by its CSI
 * driver (root folder root:root 0755 with lost+found, as mkfs.ext4 leaves it), or a folder an
 * NFS-style provisioner made on its export (nfs-subdir-external-provisioner creates it 0777).
 */
export type NewVolumeLayout = 'ext4' | 'nfs-export';

/** When a snapshot was cut and the size a volume restored from it needs. */
export interface SnapshotInfo {
  creationTime: string;
  restoreSize: string;
}

/** Where volume contents live on this machine: one folder per PersistentVolume, one per pod emptyDir. */
export class VolumeData {
  constructor(readonly root: string) {
    mkdirSync(join(root, 'volumes'), { recursive: true, mode: 0o755 });
    mkdirSync(join(root, 'pods'), { recursive: true, mode: 0o755 });
    mkdirSync(join(root, 'state'), { recursive: true, mode: 0o700 });
    mkdirSync(join(root, 'snapshots'), { recursive: true, mode: 0o700 });
  }

  /** The data of a PersistentVolume follows from its name, whatever its source (csi, nfs, hostPath). */
  volumePath(pvName: string): string {
    return join(this.root, 'volumes', pvName);
  }

  createVolume(pvName: string, layout: NewVolumeLayout): string {
    const path = this.volumePath(pvName);
    mkdirSync(path, { recursive: true });
    if (layout === 'nfs-export') {
      chmodSync(path, 0o777);
      return path;
    }
    // Modes are set explicitly: the umask of whoever runs the sandbox must not change what a pod sees.
    chmodSync(path, 0o755);
    mkdirSync(join(path, 'lost+found'), { recursive: true });
    chmodSync(join(path, 'lost+found'), 0o700);
    // root:root as mkfs leaves it; only possible (and only needed for realism) when the sandbox runs as root.
    if (process.getuid?.() === 0) {
      chownSync(path, 0, 0);
      chownSync(join(path, 'lost+found'), 0, 0);
    }
    return path;
  }

  /** A CSI snapshot's data on the storage backend, named by its snapshot handle. */
  snapshotPath(snapshotHandle: string): string {
    return join(this.root, 'snapshots', snapshotHandle);
  }

  /**
   * Cuts a snapshot: a copy of the volume as it is at this instant, with owners, modes, times, symlinks,
   * hard links and special files. Synchronous on purpose: nothing else in the cluster runs meanwhile.
   */
  takeSnapshot(pvName: string, snapshotHandle: string, info: SnapshotInfo): void {
    copyTree(this.volumePath(pvName), this.snapshotPath(snapshotHandle));
    writeFileSync(`${this.snapshotPath(snapshotHandle)}.json`, JSON.stringify(info));
  }

  /** What the storage backend knows of a snapshot (ListSnapshots), or undefined when it holds none by that handle. */
  snapshotInfo(snapshotHandle: string): SnapshotInfo | undefined {
    const path = `${this.snapshotPath(snapshotHandle)}.json`;
    if (!existsSync(path) || !existsSync(this.snapshotPath(snapshotHandle))) return undefined;
    return JSON.parse(readFileSync(path, 'utf8')) as SnapshotInfo;
  }

  removeSnapshot(snapshotHandle: string): void {
    rmSync(`${this.snapshotPath(snapshotHandle)}.json`, { force: true });
    rmSync(this.snapshotPath(snapshotHandle), { recursive: true, force: true });
  }

  /** A new volume holding what a snapshot (or, for a clone, another volume) holds, root folder included. */
  createVolumeFrom(pvName: string, source: { snapshotHandle: string } | { pvName: string }): void {
    const from = 'snapshotHandle' in source ? this.snapshotPath(source.snapshotHandle) : this.volumePath(source.pvName);
    rmSync(this.volumePath(pvName), { recursive: true, force: true });
    copyTree(from, this.volumePath(pvName));
  }

  removeVolume(pvName: string): void {
    rmSync(this.volumePath(pvName), { recursive: true, force: true });
  }

  /** Created once, mode 0777 as the kubelet makes emptyDirs; later calls leave its mode (fsGroup may have set it) alone. */
  emptyDirPath(podUid: string, volume: string): string {
    const path = join(this.root, 'pods', podUid, volume);
    if (mkdirSync(path, { recursive: true }) !== undefined) chmodSync(path, 0o777);
    return path;
  }

  removePodData(podUid: string): void {
    rmSync(join(this.root, 'pods', podUid), { recursive: true, force: true });
  }

  get stateDir(): string {
    return join(this.root, 'state');
  }
}

/** `cp -a` into a temporary name, then a rename: a failed copy never leaves a partial tree under the final name. */
function copyTree(from: string, to: string): void {
  const partial = `${to}.partial-${process.pid}-${Date.now()}`;
  try {
    execFileSync('cp', ['-a', '--reflink=auto', '--', from, partial], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(partial, to);
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(`copying ${from} to ${to} failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`);
  }
}
