import type { KubeConfig } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { StageError } from '../backup/backupStage';
import { imageToolsNextStep, missingCommandIn } from '../backup/helperImageTools';
import { HELPER_CONTAINER } from '../backup/helperPodSpec';
import { execInPod } from '../kube/podExec';
import { PodListingParser, type ListedEntry, type PodListing } from './podListing';
import { podListingCommand, type ListingSelection } from './podListingCommand';

export interface PodListingRequest {
  readonly namespace: string;
  /** A running helper pod with the volume at its data mount. */
  readonly pod: string;
  readonly image: string;
  readonly selection?: ListingSelection;
  readonly signal?: AbortSignal;
}

/**
 * Lists the volume in the helper (podListingCommand), parsing as the bytes arrive, so only the entries
 * are held, never the raw output. A failure is an `exec` StageError saying why and what to do.
 */
export async function listVolumeInPod(kubeConfig: KubeConfig, request: PodListingRequest): Promise<PodListing> {
  const { namespace, pod, image } = request;
  const parser = new PodListingParser();
  const entries: ListedEntry[] = [];
  let parseError: Error | undefined;
  const err: Buffer[] = [];
  const exitCode = await execInPod(kubeConfig, {
    namespace,
    pod,
    container: HELPER_CONTAINER,
    command: podListingCommand(request.selection),
    stdout: new Writable({
      write(chunk: Buffer, _e, callback) {
        if (parseError === undefined) {
          try {
            for (const e of parser.push(chunk)) entries.push(e);
          } catch (error) {
            parseError = error as Error;
          }
        }
        callback();
      },
    }),
    // The first lines say why; the rest would only repeat it.
    stderr: (c) => void (err.length < 64 && err.push(c)),
    signal: request.signal,
  });
  const stderr = Buffer.concat(err).toString('utf8').trim();
  const said = stderr ? `: ${stderr.split('\n').slice(-3).join(' | ')}` : '';
  if (exitCode !== 0) {
    const tool = missingCommandIn(exitCode, stderr);
    if (tool) throw new StageError('exec', `the helper image has no ${tool}, which incremental backups list the volume with`, imageToolsNextStep(image, tool));
    throw new StageError(
      'exec',
      `listing the volume for an incremental backup failed with exit code ${exitCode}${said}`,
      exitCode === 3
        ? 'Some folders could not be read by the helper, so changes cannot be told from deletions: run the backup as a full backup, or as a user that can read every folder (nkvm.helper.runAsRoot).'
        : `Check that the volume is mounted in the helper pod (kubectl -n ${namespace} describe pod ${pod}), then run the backup again.`,
    );
  }
  if (parseError) throw new StageError('exec', `the helper's volume listing could not be read: ${parseError.message}`, 'Run the backup again; if it fails the same way, run a full backup.');
  try {
    return { startedAt: parser.end(), entries };
  } catch (error) {
    throw new StageError('exec', `${(error as Error).message}${said}`, 'Check the connection to the API server, then run the backup again.');
  }
}
