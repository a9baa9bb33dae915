import { deleteHelperPods, findHelperPods, type LeftoverHelper } from '../core/backup/leftoverHelpers';
import { leftoverLabel } from '../core/backup/leftoverLabel';
import { table } from './cliOutput';
import { cliKubeConfig } from './cliSettings';

export interface CleanupCommandOptions {
  dryRun: boolean;
  context?: string;
  namespace?: string;
  json: boolean;
}

/**
 * `nkvm cleanup`: removes helper pods that have ended, are past their deadline or whose lease ran out,
 * and waits until they are gone; helpers with a fresh lease (work in progress anywhere) are kept.
 * Prints each pod with what happens to it and why. Exit 1 only when a deletion failed.
 */
export async function cleanupCommand(options: CleanupCommandOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const { kubeConfig, context } = cliKubeConfig(options.context);
  const found = await findHelperPods(kubeConfig, { namespaces: options.namespace ? [options.namespace] : undefined });
  const leftovers = found.filter((h) => h.leftover);
  const failures = options.dryRun ? [] : await deleteHelperPods(kubeConfig, leftovers);
  const failed = new Map(failures.map((f) => [f.pod, f.error]));
  const action = (h: LeftoverHelper): string => (!h.leftover ? 'kept' : options.dryRun ? 'would remove' : failed.has(h) ? 'FAILED' : 'removed');
  if (options.json) {
    const pods = found.map((h) => ({ kind: h.kind, namespace: h.namespace, name: h.name, phase: h.phase, action: action(h), reason: h.reason, error: failed.get(h) }));
    out.write(JSON.stringify({ context, dryRun: options.dryRun, pods }, null, 2) + '\n');
  } else if (!found.length) {
    out.write(`No helper pods in ${context}${options.namespace ? ` namespace ${options.namespace}` : ''}.\n`);
  } else {
    out.write(table(['ACTION', 'POD', 'PHASE', 'WHY'], found.map((h) => [action(h), leftoverLabel(h), h.phase ?? '-', h.reason])));
    const removed = leftovers.length - failures.length;
    const kept = found.length - leftovers.length;
    out.write(`${options.dryRun ? `Would remove ${leftovers.length}` : `Removed ${removed}`} helper pod(s); kept ${kept} in use.\n`);
  }
  for (const f of failures) err.write(`could not remove ${leftoverLabel(f.pod)}: ${f.error}\n`);
  return failures.length ? 1 : 0;
}
