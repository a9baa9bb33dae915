import type { KubeConfig } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { HELPER_CONTAINER } from '../backup/helperPodSpec';
import { execInPod } from '../kube/podExec';
import { imageToolsNextStep, missingCommandIn } from '../backup/helperImageTools';
import { RestoreStageError, restoreNextStepFor } from '../restore/restoreStage';
import { drillListingCommand, parseDrillListing, type RestoredEntry } from './drillListing';

/** Lists the restored volume in the helper that wrote it (see drillListingCommand). */
export async function listRestoredVolume(kubeConfig: KubeConfig, namespace: string, pod: string, image: string, signal?: AbortSignal): Promise<RestoredEntry[]> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const exitCode = await execListing(kubeConfig, namespace, pod, out, err, signal);
  const stderr = Buffer.concat(err).toString('utf8').trim();
  if (exitCode !== 0) {
    const tool = missingCommandIn(exitCode, stderr);
    if (tool) {
      throw new RestoreStageError('verify', `the helper image has no ${tool}, which the drill lists the volume with`, imageToolsNextStep(image, tool));
    }
    const said = stderr ? `: ${stderr.split('\n').slice(-3).join(' | ')}` : '';
    throw new RestoreStageError('verify', `listing the restored volume failed with exit code ${exitCode}${said}`, restoreNextStepFor('verify', { namespace, helperPod: pod }));
  }
  return parseDrillListing(Buffer.concat(out));
}

function execListing(kubeConfig: KubeConfig, namespace: string, pod: string, out: Buffer[], err: Buffer[], signal?: AbortSignal): Promise<number> {
  return execInPod(kubeConfig, {
    namespace,
    pod,
    container: HELPER_CONTAINER,
    command: drillListingCommand(),
    stdout: new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }),
    // The first lines say why; the rest would only repeat it.
    stderr: (c) => void (err.length < 64 && err.push(c)),
    signal,
  });
}
