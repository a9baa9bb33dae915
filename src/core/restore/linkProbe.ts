import type { KubeConfig } from '@kubernetes/client-node';
import { Readable, Writable } from 'node:stream';
import { HELPER_CONTAINER } from '../backup/helperPodSpec';
import { execInPod } from '../kube/podExec';

/** What the probe sends: enough to see past the first round trips, little enough to cost a fraction of a second on a slow link. */
const PROBE_BYTES = 4 * 1024 * 1024;
const PROBE_CHUNK = Buffer.alloc(256 * 1024);
/** Read before the pod says it is receiving: the clock starts there, past the command's own start. */
const MARK_BYTES = 256 * 1024;

/**
 * From this rate up (a cluster next door, a job inside the cluster) a plain tar goes to the helper as it is: gzip
 * would cost more CPU on both ends than it saves in time, and BusyBox's gunzip is slowest exactly where gzip -1
 * gains least. Below it (a VPN, another region: kubectl#1361's few MB/s) the bytes on the wire decide.
 */
export const FAST_LINK_BYTES_PER_SECOND = 30e6;

/**
 * Bytes per second the exec stream carries into the helper: a few MB of zeros, timed from the moment the
 * command says (a newline on stdout) that it has read the first of them, until it has read them all and
 * ended; the setup of the exec and the start of the command stay out of it. Undefined when the probe could
 * not run; the caller then assumes a slow link.
 */
export async function measureUploadRate(kubeConfig: KubeConfig, namespace: string, pod: string, signal?: AbortSignal): Promise<number | undefined> {
  let marked: number | undefined;
  let sent = 0;
  const stdin = new Readable({
    read() {
      if (sent >= PROBE_BYTES) return void this.push(null);
      sent += PROBE_CHUNK.length;
      this.push(PROBE_CHUNK);
    },
  });
  try {
    const code = await execInPod(kubeConfig, {
      namespace,
      pod,
      container: HELPER_CONTAINER,
      command: ['sh', '-c', `head -c ${MARK_BYTES} > /dev/null; echo; cat > /dev/null`],
      stdin,
      stdout: new Writable({ write: (_c, _e, cb) => ((marked ??= performance.now()), cb()) }),
      stderr: () => undefined,
      signal,
    });
    if (code !== 0 || marked === undefined) return undefined;
    return ((sent - MARK_BYTES) * 1000) / Math.max(1, performance.now() - marked);
  } catch {
    signal?.throwIfAborted();
    return undefined;
  }
}
