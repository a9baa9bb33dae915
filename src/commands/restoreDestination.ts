import * as vscode from 'vscode';
import type { HistoryRecord } from '../core/history/historyRecord';
import type { RestoreRequest } from '../core/restore/restoreVolume';
import type { RestoreTargetInfo } from '../core/restore/restoreTarget';
import { engine } from '../services/engine';
import type { CommandDeps } from './commandDeps';

type Destination = 'same' | 'new' | 'elsewhere';
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Asks where a backup goes: back into its own claim (after a modal naming what is overwritten), into
 * a new claim shaped like the source, or into a claim in another namespace or cluster. Undefined when
 * the user backs out at any step.
 */
export async function chooseRestoreDestination(
  deps: CommandDeps,
  record: HistoryRecord,
  paths: string[],
  options: { checkOnly?: boolean } = {},
): Promise<Omit<RestoreRequest, 'archivePath'> | undefined> {
  const sourceContext = record.context ?? deps.connections.contexts().find((c) => c.current)?.name;
  if (!sourceContext) throw new Error('This backup does not say which cluster it came from, and there is no current context.');
  const what = paths.length ? `${paths.length} selected item(s)` : 'the whole backup';
  const pick = await vscode.window.showQuickPick<vscode.QuickPickItem & { value: Destination }>(
    [
      { label: `$(history) Into ${record.namespace}/${record.pvcName}`, description: 'the volume it came from', detail: 'Overwrites files with the same paths; you can empty the volume first.', value: 'same' },
      { label: `$(new-folder) Into a new PVC in ${record.namespace}`, description: 'same size and storage class as the source', value: 'new' },
      { label: '$(arrow-swap) Into a PVC in another namespace or cluster...', value: 'elsewhere' },
    ],
    { title: `Restore ${what} of ${record.namespace}/${record.pvcName} (${new Date(record.createdAt).toLocaleString()})`, placeHolder: 'Where should the files go?' },
  );
  if (!pick) return undefined;
  const base = { expectedSha256: record.checksum ?? undefined, paths };
  if (pick.value === 'same') return confirmExisting(deps, { context: sourceContext, namespace: record.namespace, pvc: record.pvcName }, base, undefined, options.checkOnly);
  if (pick.value === 'new') return newClaim(deps, record, { context: sourceContext, namespace: record.namespace }, base);

  const context = await pickContext(deps, sourceContext);
  if (!context) return undefined;
  const namespace = await vscode.window.showInputBox({ title: 'Restore into namespace', value: record.namespace, validateInput: (v) => (dns1123Label.test(v) ? undefined : 'A namespace name: lower-case letters, digits and -') });
  if (!namespace) return undefined;
  const pvc = await vscode.window.showInputBox({
    title: `Restore into which PVC of ${namespace}?`,
    prompt: 'An existing claim is overwritten (after a confirmation); a new name creates a claim shaped like the source.',
    value: record.pvcName,
    validateInput: (v) => (dns1123Label.test(v) ? undefined : 'A claim name: lower-case letters, digits and -'),
  });
  if (!pvc) return undefined;
  const info = await engine.restoreTargets().describeRestoreTarget(deps.connections.configFor(context), namespace, pvc);
  if (info.exists) return confirmExisting(deps, { context, namespace, pvc }, base, info, options.checkOnly);
  return newClaim(deps, record, { context, namespace }, base, pvc);
}

async function pickContext(deps: CommandDeps, sourceContext: string): Promise<string | undefined> {
  const contexts = deps.connections.contexts();
  const pick = await vscode.window.showQuickPick(
    contexts.map((c) => ({ label: c.name, description: [c.name === sourceContext ? 'the backup came from here' : undefined, c.current ? 'current context' : undefined].filter(Boolean).join(' · '), detail: c.server })),
    { title: 'Restore into which cluster?' },
  );
  return pick?.label;
}

async function confirmExisting(
  deps: CommandDeps,
  target: { context: string; namespace: string; pvc: string },
  base: Pick<RestoreRequest, 'expectedSha256' | 'paths'>,
  known?: RestoreTargetInfo,
  checkOnly = false,
): Promise<Omit<RestoreRequest, 'archivePath'> | undefined> {
  // A check writes nothing, so it asks nothing: what would stop the restore is in its report.
  if (checkOnly) return { ...base, target };
  const info = known ?? (await engine.restoreTargets().describeRestoreTarget(deps.connections.configFor(target.context), target.namespace, target.pvc));
  const where = `${target.namespace}/${target.pvc}`;
  if (!info.exists) throw new Error(`The claim ${where} does not exist in ${target.context} any more. Restore into a new PVC instead.`);
  let allowInUseOnNode = false;
  if (info.inUseOnNode) {
    const { pod, node, readWriteOncePod } = info.inUseOnNode;
    if (readWriteOncePod) {
      throw new Error(`${where} is ReadWriteOncePod and pod ${pod} is using it, so no other pod can mount it. Scale the workload down, or restore to a new PVC.`);
    }
    const goAhead = `Restore on Node ${node} Anyway`;
    const choice = await vscode.window.showWarningMessage(
      `Pod ${pod} on node ${node} is using ${where} (ReadWriteOnce).`,
      { modal: true, detail: `Writing under a running workload can leave its data inconsistent. Scale the workload down first, or restore to a new PVC. Going ahead runs the restore helper on ${node}, next to ${pod}.` },
      goAhead,
    );
    if (choice !== goAhead) return undefined;
    allowInUseOnNode = true;
  }
  const users = info.usedBy.length ? `Used by: ${info.usedBy.map((u) => `${u.pod}${u.node ? ` on ${u.node}` : ''}`).join(', ')}.` : 'No pod is using it.';
  const keep = 'Restore';
  const empty = 'Empty It First, Then Restore';
  const scope = base.paths?.length ? `the ${base.paths.length} selected item(s)` : 'the backup';
  const choice = await vscode.window.showWarningMessage(
    `Restore ${scope} into ${where} in ${target.context}?`,
    {
      modal: true,
      detail: `Files in ${where} (${info.capacity ?? 'unknown size'}, ${info.accessModes.join(', ') || 'no access modes'}) with the same paths will be overwritten. "${empty}" deletes everything in the volume first, including files the backup does not have. ${users}`,
    },
    keep,
    empty,
  );
  if (!choice) return undefined;
  return { ...base, target, emptyFirst: choice === empty, allowInUseOnNode };
}

async function newClaim(
  deps: CommandDeps,
  record: HistoryRecord,
  where: { context: string; namespace: string },
  base: Pick<RestoreRequest, 'expectedSha256' | 'paths'>,
  suggestedName?: string,
): Promise<Omit<RestoreRequest, 'archivePath'> | undefined> {
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  const name =
    suggestedName ??
    (await vscode.window.showInputBox({
      title: `New PVC in ${where.namespace}`,
      value: `${record.pvcName}-restored-${stamp}`.slice(0, 63).replace(/-+$/, ''),
      validateInput: (v) => (dns1123Label.test(v) && v.length <= 63 ? undefined : 'A claim name: at most 63 lower-case letters, digits and -'),
    }));
  if (!name) return undefined;
  // The source claim's shape when it still exists in its own cluster; otherwise the engine sizes it from the archive.
  let shape: { storage?: string; storageClassName?: string; accessModes?: string[] } = {};
  if (record.context) {
    try {
      shape = await engine.restoreTargets().claimShapeOf(deps.connections.configFor(record.context), record.namespace, record.pvcName);
    } catch (e) {
      deps.log.info(`[restore] could not read the source claim's size and class: ${(e as Error).message}`);
    }
  }
  const storage = await vscode.window.showInputBox({
    title: `Size of ${where.namespace}/${name}`,
    prompt: shape.storage ? `The source claim asks for ${shape.storage}.` : 'The source claim is gone; leave empty to size the claim for the archive.',
    value: shape.storage ?? '',
    validateInput: (v) => (v === '' || /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.test(v) ? undefined : 'A quantity such as 10Gi, or empty'),
  });
  if (storage === undefined) return undefined;
  const storageClassName = await vscode.window.showInputBox({
    title: `Storage class of ${where.namespace}/${name}`,
    prompt: 'Empty: the cluster\'s default storage class.',
    value: shape.storageClassName ?? '',
  });
  if (storageClassName === undefined) return undefined;
  return {
    ...base,
    target: { ...where, pvc: name },
    createClaim: { ...(storage ? { storage } : {}), ...(storageClassName ? { storageClassName } : {}), ...(shape.accessModes?.length ? { accessModes: shape.accessModes } : {}) },
  };
}
