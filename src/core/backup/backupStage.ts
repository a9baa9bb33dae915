/**
 * The stages of a helper-pod backup, in order; every failure names one of them. `hook` runs the
 * application's hooks, `snapshot` cuts a VolumeSnapshot and waits until it is ready, `clone` makes the
 * temporary claim the helper reads it through; a live backup starts at `create`.
 */
export const BACKUP_STAGES = ['hook', 'snapshot', 'clone', 'create', 'wait', 'exec', 'copy', 'checksum', 'cleanup'] as const;
export type BackupStage = (typeof BACKUP_STAGES)[number];

/** A failure at one stage, with its cause in words and what the user can do next. */
export class StageError extends Error {
  constructor(
    readonly stage: BackupStage,
    readonly causeText: string,
    readonly nextStep: string,
    /** Evidence such as the helper pod's events, quoted for the report. */
    readonly evidence: string[] = [],
  ) {
    super(`${stage} stage failed: ${causeText}`);
    this.name = 'StageError';
  }
}

export interface NextStepContext {
  namespace: string;
  helperPod?: string;
}

/** The runbook's incident table, worded for streaming over the API (no kubectl binary involved). */
export function nextStepFor(stage: BackupStage, ctx: NextStepContext): string {
  const pod = ctx.helperPod ?? '<helper-pod>';
  switch (stage) {
    case 'hook':
      return `Read the hook's output above, run its command by hand in the workload's pod (kubectl -n ${ctx.namespace} exec <pod> -c <container> -- <command>), or set its on-error to Continue.`;
    case 'snapshot':
      return `Read the VolumeSnapshot's status and events (kubectl -n ${ctx.namespace} describe volumesnapshot), check its VolumeSnapshotClass and the CSI driver's snapshot support, or back up live (nkvm.backup.consistency "live").`;
    case 'clone':
      return `Read the temporary claim's events (kubectl -n ${ctx.namespace} describe pvc -l app.kubernetes.io/component=snapshot-claim), check the namespace's storage quota and the storage class, or back up live (nkvm.backup.consistency "live").`;
    case 'create':
      return `Confirm the RoleBinding nkvm-runtime exists in namespace "${ctx.namespace}" (kubectl -n ${ctx.namespace} get rolebinding nkvm-runtime) and that the helper image may be pulled there.`;
    case 'wait':
      return `Read the helper pod's events above, check node scheduling and image pulls (kubectl -n ${ctx.namespace} describe pod ${pod}), or raise nkvm.helperPodTimeoutSeconds.`;
    case 'exec':
      return `Check that the helper image provides sh and tar and that the volume is mounted and readable; check the pods/exec permission (kubectl auth can-i create pods --subresource=exec -n ${ctx.namespace}).`;
    case 'copy':
      return 'Check the connection to the API server and the backup folder (write access, free space), then run the backup again.';
    case 'checksum':
      return 'The archive did not match what the pod sent: check free space and write access in the backup folder, then run the backup again.';
    case 'cleanup':
      return `Remove the helper pod by hand (kubectl -n ${ctx.namespace} delete pod ${pod} --ignore-not-found) and check the delete permission on pods.`;
  }
}
