import type { BackupStage } from '../backup/backupStage';
import { HELPER_COMPONENT, HELPER_COMPONENT_LABEL } from '../backup/helperPodSpec';
import type { TriageCommand } from './reportModel';

export interface TriageSubject {
  /** The kubeconfig context the backup used; named in every command so a paste never hits another cluster. */
  readonly context?: string;
  readonly namespace: string;
  readonly stage?: BackupStage;
  readonly helperPod?: string;
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
