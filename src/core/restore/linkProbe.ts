import type { KubeConfig } from '@kubernetes/client-node';
import { Readable, Writable } from 'node:stream';
import { HELPER_CONTAINER } from '../backup/helperPodSpec';
import { execInPod } from '../kube/podExec';

/** What the probe sends: enough to see past the first round trips, little enough to cost a fraction of a second on a slow link. */
const PROBE_BYTES = 4 * 1024 * 1024;
const PROBE_CHUNK = Buffer.alloc(64 * 1024);
/**
 * The pod says (a newline) when it has read this much, and again after TIMED_BYTES more: the clock runs
 * between the two, past the command's start and the first burst that buffers along the way let through.
 */
const WARMUP_BYTES = 512 * 1024;
const TIMED_BYTES = 3 * 1024 * 1024;

/**
 * From this rate up (a cluster next door, a job inside the cluster) a plain tar goes to the helper as it is: gzip
 * would cost more CPU on both ends than it saves in time, and BusyBox's gunzip is slowest exactly where gzip -1
 * gains least. Below it (a VPN, another region: kubectl#1361's few MB/s) the bytes on the wire decide.
 */
export const FAST_LINK_BYTES_PER_SECOND = 30e6;

/**
 * Bytes per second the exec stream carries into the helper: a few MB of zeros, timed between two newlines
 * the command writes when it has read the first half MB and 3 MB more, so that the setup of the exec, the
 * start of the command and what the buffers of the link took at once stay out of it. Undefined when the
 * probe could not run; the caller then assumes a slow link.
 */
export async function measureUploadRate(kubeConfig: KubeConfig, namespace: string, pod: string, signal?: AbortSignal): Promise<number | undefined> {
  const marks: number[] = [];
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
      command: ['sh', '-c', `head -c ${WARMUP_BYTES} > /dev/null; echo; head -c ${TIMED_BYTES} > /dev/null; echo; cat > /dev/null`],
      stdin,
      stdout: new Writable({
        write: (chunk: Buffer, _e, cb) => {
          const now = performance.now();
          for (const byte of chunk) if (byte === 0x0a) marks.push(now);
          cb();
        },
      }),
      stderr: () => undefined,
      signal,
    });
    if (code !== 0 || marks.length !== 2) return undefined;
    return (TIMED_BYTES * 1000) / Math.max(1, marks[1]! - marks[0]!);
  } catch {
    signal?.throwIfAborted();
    return undefined;
  }
}
