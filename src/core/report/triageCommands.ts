import type { BackupStage } from '../backup/backupStage';
import { HELPER_COMPONENT, HELPER_COMPONENT_LABEL } from '../backup/helperPodSpec';
import { SNAPSHOT_CLAIM_COMPONENT, SNAPSHOT_COMPONENT } from '../snapshot/snapshotLabels';
import type { TriageCommand } from './reportModel';

export interface TriageSubject {
  /** The kubeconfig context the backup used; named in every command so a paste never hits another cluster. */
  readonly context?: string;
  readonly namespace: string;
  readonly stage?: BackupStage;
  readonly helperPod?: string;
  /** The first hook that did not succeed: its pod is where to look. */
  readonly failedHook?: { readonly pod: string; readonly container: string };
}

const HELPER_SELECTOR = `${HELPER_COMPONENT_LABEL}=${HELPER_COMPONENT}`;

/** The runbook's rapid triage commands for one failed volume, ready to paste into a shell. */
export function triageCommands(subject: TriageSubject): TriageCommand[] {
  const kubectl = subject.context ? `kubectl --context ${shellWord(subject.context)}` : 'kubectl';
  const ns = shellWord(subject.namespace);
  const commands: TriageCommand[] = [
    { purpose: 'List helper pods in every namespace', command: `${kubectl} get pods -A -l ${HELPER_SELECTOR}` },
    { purpose: 'Show the latest events in the namespace', command: `${kubectl} -n ${ns} get events --sort-by=.lastTimestamp | tail -n 40` },
    { purpose: 'Check that helper pods may be created', command: `${kubectl} auth can-i create pods --namespace ${ns}` },
    { purpose: 'Check that the archive may be streamed (pods/exec)', command: `${kubectl} auth can-i create pods --subresource=exec --namespace ${ns}` },
  ];
  const hook = subject.failedHook;
  if (hook?.pod) {
    const container = hook.container ? ` -c ${shellWord(hook.container)}` : '';
    commands.push(
      { purpose: 'Show the state and events of the pod the hook ran in', command: `${kubectl} -n ${ns} describe pod ${shellWord(hook.pod)}` },
      { purpose: "Read the end of the application's log around the hook", command: `${kubectl} -n ${ns} logs ${shellWord(hook.pod)}${container} --tail=40` },
    );
  }
  // The backup deletes its snapshot and temporary claim when it fails; their events stay for about an hour.
  if (subject.stage === 'snapshot') {
    commands.push(
      { purpose: 'Show the events of VolumeSnapshots in the namespace', command: `${kubectl} -n ${ns} get events --field-selector involvedObject.kind=VolumeSnapshot` },
      { purpose: 'List the snapshot classes and their CSI drivers', command: `${kubectl} get volumesnapshotclass` },
      { purpose: 'List VolumeSnapshots a backup left behind', command: `${kubectl} -n ${ns} get volumesnapshot -l ${HELPER_COMPONENT_LABEL}=${SNAPSHOT_COMPONENT}` },
    );
  }
  if (subject.stage === 'clone') {
    commands.push(
      { purpose: 'Show the events of claims in the namespace (provisioning from the snapshot)', command: `${kubectl} -n ${ns} get events --field-selector involvedObject.kind=PersistentVolumeClaim` },
      { purpose: 'List temporary claims a backup left behind', command: `${kubectl} -n ${ns} get pvc -l ${HELPER_COMPONENT_LABEL}=${SNAPSHOT_CLAIM_COMPONENT}` },
    );
  }
  if (subject.stage === 'cleanup') {
    commands.push(
      subject.helperPod
        ? { purpose: 'Remove the helper pod left behind', command: `${kubectl} -n ${ns} delete pod ${shellWord(subject.helperPod)} --ignore-not-found` }
        : { purpose: 'Find the helper pod left behind, then delete it', command: `${kubectl} -n ${ns} get pods -l ${HELPER_SELECTOR}` },
    );
  }
  return commands;
}

/**
 * Quotes a value from the cluster or the kubeconfig for a POSIX shell. Kubernetes names are safe
 * as they are, but context names are free text and must not run anything when pasted.
 */
export function shellWord(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
