import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { defaultHelperOwner, leaseAnnotations, type HelperOwner } from '../backup/helperOwner';
import { DEFAULT_LEASE_SECONDS, HELPER_COMPONENT_LABEL, labelValue, PVC_LABEL, RUN_ID_LABEL } from '../backup/helperPodSpec';
import { describeKubeError } from '../kube/describeKubeError';

/** `app.kubernetes.io/component` of a drill's temporary claim, for the leftover sweep. */
export const DRILL_CLAIM_COMPONENT = 'restore-drill';

/** A fresh name, so that a drill never writes into a claim someone else made. */
export function drillClaimName(): string {
  return `nkvm-drill-${randomBytes(5).toString('hex')}`;
}

/** The labels a drill's claim carries besides `app.kubernetes.io/managed-by` (see restoreClaimManifest). */
export function drillClaimLabels(runId: string, pvc: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'nerdy-k8s-volume-manager',
    [HELPER_COMPONENT_LABEL]: DRILL_CLAIM_COMPONENT,
    [RUN_ID_LABEL]: labelValue(runId),
    [PVC_LABEL]: labelValue(pvc),
  };
}

/**
 * A lease as helpers carry one: while the drill's helper (same run id) renews its own, the claim is in use;
 * this one covers the wait before that helper exists, so a sweep never takes a claim being set up.
 */
export function drillClaimAnnotations(owner: HelperOwner | undefined, helperPodTimeoutSeconds: number): Record<string, string> {
  return leaseAnnotations(owner ?? defaultHelperOwner(), 2 * helperPodTimeoutSeconds + DEFAULT_LEASE_SECONDS);
}

/**
 * Deletes the drill's claim and waits until the API server no longer has it (its protection
 * finalizer holds it while a pod still mounts it). Undefined when it is gone; else why not.
 */
export async function removeDrillClaim(core: CoreV1Api, namespace: string, name: string, timeoutMs = 60_000): Promise<string | undefined> {
  try {
    await core.deleteNamespacedPersistentVolumeClaim({ name, namespace });
  } catch (e) {
    const d = describeKubeError(e);
    if (d.kind !== 'notFound') return `could not delete the drill's claim ${namespace}/${name}: ${d.message}`;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await core.readNamespacedPersistentVolumeClaim({ name, namespace });
    } catch (e) {
      if (describeKubeError(e).kind === 'notFound') return undefined;
    }
    if (Date.now() > deadline) return `the drill's claim ${namespace}/${name} is still there ${Math.round(timeoutMs / 1000)} s after it was deleted`;
    await new Promise((r) => setTimeout(r, 250));
  }
}
