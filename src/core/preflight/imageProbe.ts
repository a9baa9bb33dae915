import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { StageError } from '../backup/backupStage';
import { HELPER_TOOLS, imageToolsNextStep } from '../backup/helperImageTools';
import { HelperLease } from '../backup/helperLease';
import type { HelperOwner } from '../backup/helperOwner';
import { deleteHelperPod } from '../backup/helperPod';
import { startHelperPod } from '../backup/helperStart';
import { DATA_MOUNT, HELPER_CONTAINER, helperPodSpec, PVC_LABEL } from '../backup/helperPodSpec';
import { helperIdentity } from '../backup/helperIdentity';
import { OWNERS_PREFIX, parseVolumeOwners, volumeOwnersCommand, type VolumeOwners } from '../backup/volumeOwners';
import { describeKubeError } from '../kube/describeKubeError';
import { execInPod } from '../kube/podExec';

export const PROBE_PURPOSE = 'Checks that the helper image starts and has the tools a backup needs; mounts no volume; deleted within seconds.';

export interface ImageProbeInput {
  namespace: string;
  image: string;
  imagePullSecrets?: string[];
  deadlineSeconds: number;
  leaseSeconds?: number;
  owner?: HelperOwner;
  /** How long the image may take to be pulled and started. */
  startTimeoutSeconds: number;
  /**
   * A backup helper for a claim (as prepareHelperPod makes it: read-only mount, placement, user) to run
   * instead, to also read who owns the claim's files and how much room it has; default: no volume.
   */
  helper?: V1Pod;
  signal?: AbortSignal;
}

/** What the probe saw of the mounted claim. */
export interface ProbedVolume {
  owners: VolumeOwners;
  /** From `df -P -k`: room left and room used, in bytes; undefined when df said nothing usable. */
  freeBytes?: number;
  usedBytes?: number;
}

export type ImageProbeResult =
  | { ok: true; userland: string; volume?: ProbedVolume }
  | { ok: false; cause: string; nextStep: string };

const MARKER = 'nkvm-probe';

/**
 * Starts the helper image once in the namespace, as the helper would run (non-root, no capabilities,
 * read-only root) but with no volume, and asks its shell which of the helper's tools it has. Finds
 * what a dry run cannot: an image the nodes cannot pull, one without a shell (distroless, scratch),
 * one without tar or gzip. The pod carries a lease and is deleted before this returns.
 */
export async function probeHelperImage(kubeConfig: KubeConfig, input: ImageProbeInput): Promise<ImageProbeResult> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const spec = input.helper ? claimProbePod(input.helper) : imageProbePod(input);
  let name: string | undefined;
  let lease: HelperLease | undefined;
  try {
    const running = await startHelperPod(kubeConfig, core, spec, {
      namespace: input.namespace,
      timeoutSeconds: input.startTimeoutSeconds,
      signal: input.signal,
      onCreated: (created, started) => ((name = created), (lease = started)),
    });
    return await askForTools(kubeConfig, input, running);
  } catch (e) {
    if (input.signal?.aborted) throw e;
    if (e instanceof StageError) return { ok: false, cause: e.causeText, nextStep: e.nextStep };
    return { ok: false, cause: `the image check failed: ${describeKubeError(e).message}`, nextStep: 'Run the preflight again; if it fails the same way, a backup would too.' };
  } finally {
    await lease?.stop();
    if (name) await deleteHelperPod(core, input.namespace, name).catch(() => undefined);
  }
}

/** The helper's pod without the claim: the same user, security context, lease loop and scratch folder. */
export function imageProbePod(input: ImageProbeInput): V1Pod {
  const pod = helperPodSpec({
    namespace: input.namespace,
    pvc: 'image-probe',
    runId: 'image-probe',
    image: input.image,
    deadlineSeconds: input.deadlineSeconds,
    owner: input.owner,
    leaseSeconds: input.leaseSeconds,
    identity: helperIdentity({}, false),
    imagePullSecrets: input.imagePullSecrets,
  });
  const metadata = pod.metadata!;
  metadata.generateName = 'nkvm-probe-';
  delete metadata.labels![PVC_LABEL];
  const annotations: Record<string, string> = { ...metadata.annotations, 'nkvm.dev/purpose': PROBE_PURPOSE };
  delete annotations['nkvm.dev/pvc'];
  metadata.annotations = annotations;
  const spec = pod.spec!;
  spec.volumes = spec.volumes!.filter((v) => !v.persistentVolumeClaim);
  for (const container of spec.containers) container.volumeMounts = container.volumeMounts?.filter((m) => m.mountPath !== DATA_MOUNT);
  return pod;
}

/** A read-only helper for a claim, named and annotated as a probe. */
function claimProbePod(helper: V1Pod): V1Pod {
  const pod = structuredClone(helper);
  pod.metadata!.generateName = 'nkvm-probe-';
  pod.metadata!.annotations = { ...pod.metadata!.annotations, 'nkvm.dev/purpose': PROBE_PURPOSE.replace('mounts no volume', 'mounts the claim read-only') };
  return pod;
}

async function askForTools(kubeConfig: KubeConfig, input: ImageProbeInput, pod: string): Promise<ImageProbeResult> {
  // `command -v` is POSIX and built into every sh; the first line of `tar --version` names the userland.
  const script = [
    'missing=""',
    `for t in ${HELPER_TOOLS.filter((t) => t !== 'sh').join(' ')}; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done`,
    `echo "${MARKER} missing=$missing"`,
    `echo "${MARKER} tar=$(tar --version 2>&1 | head -n 1)"`,
    // POSIX df: one line per file system, `name blocks used available capacity mount`, in KiB with -k.
    ...(input.helper ? [volumeOwnersCommand()[2]!, `echo "${MARKER} df $(df -P -k ${DATA_MOUNT} | tail -n 1)"`] : []),
  ].join('\n');
  let stdout = '';
  let stderr = '';
  const code = await execInPod(kubeConfig, {
    namespace: input.namespace,
    pod,
    container: HELPER_CONTAINER,
    command: ['sh', '-c', script],
    stdout: new Writable({
      write(chunk: Buffer, _encoding, done) {
        stdout += chunk.toString('utf8');
        done();
      },
    }),
    stderr: (chunk) => {
      stderr += chunk.toString('utf8');
    },
    signal: input.signal,
  });
  const missing = new RegExp(`^${MARKER} missing=(.*)$`, 'm').exec(stdout)?.[1]?.trim().split(/\s+/).filter(Boolean);
  if (code !== 0 || !missing) {
    return { ok: false, cause: `the helper image's shell could not list its tools (exit ${code}${stderr.trim() ? `: ${stderr.trim().slice(0, 300)}` : ''})`, nextStep: imageToolsNextStep(input.image, 'working POSIX shell') };
  }
  if (missing.length) return { ok: false, cause: `the helper image "${input.image}" has no ${missing.join(', ')}`, nextStep: imageToolsNextStep(input.image, missing.join(', ')) };
  const tar = new RegExp(`^${MARKER} tar=(.*)$`, 'm').exec(stdout)?.[1]?.trim() ?? '';
  return { ok: true, userland: tar || 'tar', ...(input.helper ? { volume: probedVolume(stdout) } : {}) };
}

function probedVolume(stdout: string): ProbedVolume {
  const owners = parseVolumeOwners(stdout.split('\n').filter((l) => l.startsWith(OWNERS_PREFIX)).join('\n'));
  const df = new RegExp(`^${MARKER} df \\S+\\s+\\d+\\s+(\\d+)\\s+(\\d+)\\s`, 'm').exec(stdout);
  return { owners, ...(df ? { usedBytes: Number(df[1]) * 1024, freeBytes: Number(df[2]) * 1024 } : {}) };
}
