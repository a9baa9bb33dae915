import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a new volume looks like when the pod first mounts it: a block device formatted ext4 by its CSI
 * driver (root folder root:root 0755 with lost+found, as mkfs.ext4 leaves it), or a folder an
 * NFS-style provisioner made on its export (nfs-subdir-external-provisioner creates it 0777).
 */
export type NewVolumeLayout = 'ext4' | 'nfs-export';

/** Where volume contents live on this machine: one folder per PersistentVolume, one per pod emptyDir. */
export class VolumeData {
  constructor(readonly root: string) {
    mkdirSync(join(root, 'volumes'), { recursive: true, mode: 0o755 });
    mkdirSync(join(root, 'pods'), { recursive: true, mode: 0o755 });
    mkdirSync(join(root, 'state'), { recursive: true, mode: 0o700 });
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
