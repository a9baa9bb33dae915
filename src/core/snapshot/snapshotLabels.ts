import { HELPER_COMPONENT_LABEL, labelValue, PVC_LABEL, RUN_ID_LABEL } from '../backup/helperPodSpec';

/** The VolumeSnapshot a point-in-time backup cuts. */
export const SNAPSHOT_COMPONENT = 'backup-snapshot';
/** The temporary claim provisioned from that snapshot, which the helper reads. */
export const SNAPSHOT_CLAIM_COMPONENT = 'snapshot-claim';

/** Labels as on the helper pod: found by the same sweep, tied to the run and the source claim. */
export function snapshotObjectLabels(component: string, runId: string, pvc: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'nerdy-k8s-volume-manager',
    [HELPER_COMPONENT_LABEL]: component,
    'app.kubernetes.io/managed-by': 'nerdy-k8s-volume-manager',
    [RUN_ID_LABEL]: labelValue(runId),
    [PVC_LABEL]: labelValue(pvc),
  };
}
