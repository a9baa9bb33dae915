import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Where volume contents live on this machine: one folder per PersistentVolume, one per pod emptyDir. */
export class VolumeData {
  constructor(readonly root: string) {
    mkdirSync(join(root, 'volumes'), { recursive: true, mode: 0o755 });
    mkdirSync(join(root, 'pods'), { recursive: true, mode: 0o755 });
    mkdirSync(join(root, 'state'), { recursive: true, mode: 0o700 });
  }

  volumePath(pvName: string): string {
    return join(this.root, 'volumes', pvName);
  }

  createVolume(pvName: string): string {
    const path = this.volumePath(pvName);
    mkdirSync(path, { recursive: true });
    // Freshly provisioned volumes and emptyDirs are world-writable on a real node, whatever the umask.
    chmodSync(path, 0o777);
    return path;
  }

  removeVolume(pvName: string): void {
    rmSync(this.volumePath(pvName), { recursive: true, force: true });
  }

  emptyDirPath(podUid: string, volume: string): string {
    const path = join(this.root, 'pods', podUid, volume);
    mkdirSync(path, { recursive: true });
    chmodSync(path, 0o777);
    return path;
  }

  removePodData(podUid: string): void {
    rmSync(join(this.root, 'pods', podUid), { recursive: true, force: true });
  }

  get stateDir(): string {
    return join(this.root, 'state');
  }
}
