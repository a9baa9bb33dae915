import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../config/ensurePrivateDir';
import { describeKubeError } from '../kube/describeKubeError';
import { ExecFailedError, ExecRefusedError, ExecStreamBrokenError, execInPod } from '../kube/podExec';
import { archiveCommand, parseArchiveStderr } from './archiveCommand';
import { archivePath } from './archiveNaming';
import { BackupStage, nextStepFor, StageError } from './backupStage';
import { createHelperPod, deleteHelperPod, waitForHelperPod } from './helperPod';
import { helperPlacement } from './helperPlacement';
import { HELPER_CONTAINER, helperPodSpec } from './helperPodSpec';
import { PartialArchive } from './partialArchive';

export type BackupStatus = 'success' | 'partial' | 'failed' | 'cancelled';

export interface BackupTarget {
  context: string;
  namespace: string;
  pvc: string;
}

export interface BackupProgress extends BackupTarget {
  stage: BackupStage;
  bytes: number;
  bytesPerSecond: number;
}

export interface BackupSettings {
  backupDir: string;
  helperImage: string;
  helperPodTimeoutSeconds: number;
  /** activeDeadlineSeconds of the helper: the cluster stops it by then even if this process dies. */
  helperDeadlineSeconds?: number;
  imagePullSecrets?: string[];
}

export interface BackupResult extends BackupTarget {
  runId: string;
  status: BackupStatus;
  /** The stage reached (success: `cleanup`) or the stage that failed. */
  stage: BackupStage;
  message: string;
  nextStep?: string;
  evidence: string[];
  /** Lines tar printed on stderr (files that changed or could not be read). */
  warnings: string[];
  archivePath?: string;
  sizeBytes?: number;
  checksum?: string;
  helperPod?: string;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

const defaultDeadlineSeconds = 6 * 3600;

/**
 * Backs up one claim through a helper pod: create, wait, exec, copy, checksum, cleanup. Never throws:
 * every outcome is a result, and no helper pod or partial archive is left behind.
 */
export async function backupVolume(kubeConfig: KubeConfig, target: BackupTarget, settings: BackupSettings, runId: string, options: { signal?: AbortSignal; onProgress?: (p: BackupProgress) => void } = {}): Promise<BackupResult> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const startedAt = new Date();
  const { namespace, pvc } = target;
  let stage: BackupStage = 'create';
  let podName: string | undefined;
  let archive: PartialArchive | undefined;
  let bytesSeen = 0;
  const report = (s: BackupStage): void => {
    stage = s;
    const seconds = (Date.now() - startedAt.getTime()) / 1000;
    options.onProgress?.({ ...target, stage: s, bytes: bytesSeen, bytesPerSecond: seconds > 0 ? bytesSeen / seconds : 0 });
  };
  const finish = (partial: Omit<BackupResult, keyof BackupTarget | 'runId' | 'startedAt' | 'finishedAt' | 'durationMs' | 'helperPod'>): BackupResult => {
    const finishedAt = new Date();
    return { ...target, runId, ...partial, helperPod: podName, startedAt, finishedAt, durationMs: finishedAt.getTime() - startedAt.getTime() };
  };

  let result: BackupResult;
  try {
    options.signal?.throwIfAborted();
    archive = await openArchive(settings.backupDir, target, startedAt);
    report('create');
    const placement = await helperPlacement(core, namespace, pvc);
    const spec = helperPodSpec({
      namespace,
      pvc,
      runId,
      image: settings.helperImage,
      deadlineSeconds: settings.helperDeadlineSeconds ?? defaultDeadlineSeconds,
      pinToNode: placement.node,
      tolerations: placement.tolerations,
      runAsUser: placement.runAsUser,
      runAsGroup: placement.runAsGroup,
      imagePullSecrets: settings.imagePullSecrets,
    });
    options.signal?.throwIfAborted();
    podName = (await createHelperPod(core, spec)).metadata!.name!;
    report('wait');
    await waitForHelperPod(core, namespace, podName, settings.helperPodTimeoutSeconds, options.signal);
    report('exec');
    const streamed = await streamArchive(kubeConfig, namespace, podName, archive, options.signal, (n) => {
      if (bytesSeen === 0) stage = 'copy';
      bytesSeen = n;
    }, () => report(stage));
    report('checksum');
    const local = await archive.finish();
    const { trailer, messages } = parseArchiveStderr(streamed.stderr);
    if (streamed.exitCode !== 0 && streamed.exitCode !== 1) {
      throw new StageError('exec', `tar in the helper pod exited with code ${streamed.exitCode}${messages.length ? `: ${messages.slice(-3).join(' | ')}` : ''}`, nextStepFor('exec', { namespace, helperPod: podName }), messages);
    }
    if (!trailer) throw new StageError('checksum', 'the helper pod did not report the checksum of what it sent', nextStepFor('checksum', { namespace }));
    if (trailer.sha256 !== local.sha256) {
      throw new StageError('checksum', `the archive received (${local.bytes} bytes, sha256 ${local.sha256}) differs from what the pod sent (sha256 ${trailer.sha256})`, nextStepFor('checksum', { namespace }));
    }
    await archive.commit();
    const partial = streamed.exitCode === 1;
    result = finish({
      status: partial ? 'partial' : 'success',
      stage: 'cleanup',
      message: partial
        ? `Partial backup: tar reported files that changed or could not be read (${messages.slice(-3).join(' | ') || 'no details'})`
        : `Backed up ${local.bytes} bytes`,
      nextStep: partial ? 'Stop writes to the volume (or scale its workload down) and back up again; the archive is kept but marked partial.' : undefined,
      evidence: [],
      warnings: messages,
      archivePath: archive.finalPath,
      sizeBytes: local.bytes,
      checksum: local.sha256,
    });
  } catch (e) {
    await archive?.discard();
    if (options.signal?.aborted) {
      result = finish({ status: 'cancelled', stage, message: `Cancelled during the ${stage} stage`, evidence: [], warnings: [] });
    } else {
      const failure = e instanceof StageError ? e : new StageError(stage, e instanceof Error ? e.message : String(e), nextStepFor(stage, { namespace, helperPod: podName }));
      result = finish({ status: 'failed', stage: failure.stage, message: failure.message, nextStep: failure.nextStep, evidence: failure.evidence, warnings: [] });
    }
  }

  if (podName) {
    try {
      await deleteHelperPod(core, namespace, podName);
    } catch (e) {
      const failure = e as StageError;
      // The backup's own outcome stands; the leftover pod is reported next to it.
      result.message = `${result.message}; ${failure.message}`;
      result.nextStep = [result.nextStep, failure.nextStep].filter(Boolean).join(' ');
      if (result.status === 'success') result.stage = 'cleanup';
    }
  }
  return result;
}

async function openArchive(backupDir: string, target: BackupTarget, at: Date): Promise<PartialArchive> {
  const finalPath = archivePath(backupDir, target.context, target.namespace, target.pvc, at);
  try {
    await ensurePrivateDir(backupDir);
    await mkdir(dirname(finalPath), { recursive: true, mode: 0o700 });
    return await PartialArchive.create(finalPath);
  } catch (e) {
    throw new StageError('copy', `cannot write to the backup folder ${backupDir}: ${(e as Error).message}`, 'Choose a writable backup folder (nkvm.backupDir or NKVM_BACKUP_DIR) with free space, then run the backup again.');
  }
}

async function streamArchive(
  kubeConfig: KubeConfig,
  namespace: string,
  pod: string,
  archive: PartialArchive,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  tick: () => void,
): Promise<{ exitCode: number; stderr: string }> {
  const sink = archive.writable();
  const stop = new AbortController();
  let writeError: Error | undefined;
  sink.on('error', (e) => {
    writeError = e;
    stop.abort(e);
  });
  const onAbort = (): void => stop.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setInterval(() => {
    onBytes(archive.size);
    tick();
  }, 250);
  const stderr: Buffer[] = [];
  try {
    const exitCode = await execInPod(kubeConfig, {
      namespace,
      pod,
      container: HELPER_CONTAINER,
      command: archiveCommand(),
      stdout: sink,
      stderr: (c) => stderr.push(c),
      signal: stop.signal,
    });
    await new Promise<void>((resolve, reject) => {
      sink.once('error', reject);
      sink.end(() => resolve());
    });
    onBytes(archive.size);
    return { exitCode, stderr: Buffer.concat(stderr).toString('utf8') };
  } catch (e) {
    sink.destroy();
    if (writeError) throw new StageError('copy', `could not write the archive ${archive.partialPath}: ${writeError.message}`, nextStepFor('copy', { namespace }));
    if (signal?.aborted) throw e;
    if (e instanceof ExecRefusedError) {
      const forbidden = e.statusCode === 403;
      throw new StageError('exec', `the API server refused to run tar in the helper pod: ${e.message}`, forbidden ? `Grant create (and get) on pods/exec in "${namespace}" through the RoleBinding nkvm-runtime (deploy/k8s/rbac/rolebinding-runtime-template.yaml).` : nextStepFor('exec', { namespace, helperPod: pod }));
    }
    if (e instanceof ExecFailedError) throw new StageError('exec', `the helper pod could not run tar: ${e.message}`, nextStepFor('exec', { namespace, helperPod: pod }));
    if (e instanceof ExecStreamBrokenError) throw new StageError('copy', `the stream broke after ${archive.size} bytes: ${e.message}`, nextStepFor('copy', { namespace }));
    throw new StageError('copy', `the stream failed after ${archive.size} bytes: ${describeKubeError(e).message}`, nextStepFor('copy', { namespace }));
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
