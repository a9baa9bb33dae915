import type { KubeConfig } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { execInPod } from '../kube/podExec';
import { HELPER_CONTAINER } from './helperPodSpec';
import { parseVolumeOwners, volumeOwnersCommand, type VolumeOwners } from './volumeOwners';

/** Asks a running helper who owns the entries at the top of its volume; undefined when it cannot tell. */
export async function probeVolumeOwners(kubeConfig: KubeConfig, namespace: string, pod: string, signal?: AbortSignal): Promise<VolumeOwners | undefined> {
  let stdout = '';
  const code = await execInPod(kubeConfig, {
    namespace,
    pod,
    container: HELPER_CONTAINER,
    command: volumeOwnersCommand(),
    stdout: new Writable({
      write(chunk: Buffer, _encoding, done) {
        // A few bytes per entry at the top of the volume; bounded anyway.
        if (stdout.length < 1 << 20) stdout += chunk.toString('utf8');
        done();
      },
    }),
    stderr: () => undefined,
    signal,
  });
  return code === 0 ? parseVolumeOwners(stdout) : undefined;
}
