import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { configuredHelperUser, DEFAULT_HELPER_POD_SETTINGS, helperRunsAsRoot, type HelperPodSettings } from '../config/helperSettings';
import { StageError } from './backupStage';
import { HelperIdentity, helperIdentity } from './helperIdentity';
import { HelperPlacement, readPlacement, refuseOncePodInUse } from './helperPlacement';
import type { HelperOwner } from './helperOwner';
import { helperPodSpec } from './helperPodSpec';
import { NamespacePodSecurity, namespacePodSecurity } from './namespacePodSecurity';

export interface HelperPreparationInput {
  namespace: string;
  pvc: string;
  runId: string;
  image: string;
  /** Overrides helper.deadlineSeconds. */
  deadlineSeconds?: number;
  helper?: Partial<HelperPodSettings>;
  /** Who renews the helper's lease; default: this process. */
  owner?: HelperOwner;
  /** The per-backup choice; absent: `helper.runAsRoot` decides by namespace. */
  runAsRoot?: boolean;
  /**
   * The helper reads a temporary claim provisioned from a snapshot of this claim: it is that claim's
   * first consumer (so it may be unbound yet) and runs as the source claim's workload would.
   */
  copyOf?: string;
  /** Already read by the caller (preflight shows it even when the helper is refused). */
  placement?: HelperPlacement;
  podSecurity?: NamespacePodSecurity;
}

export interface PreparedHelper {
  spec: V1Pod;
  identity: HelperIdentity;
  placement: HelperPlacement;
  podSecurity: NamespacePodSecurity;
}

/**
 * Everything the create stage decides before writing to the API: where the helper runs, as whom,
 * and whether the namespace allows it. Only reads; a root helper in a namespace that enforces
 * "restricted" is refused here, before any pod is sent.
 */
export async function prepareHelperPod(core: CoreV1Api, input: HelperPreparationInput): Promise<PreparedHelper> {
  const { namespace, pvc } = input;
  const helper = { ...DEFAULT_HELPER_POD_SETTINGS, ...input.helper };
  const placement = input.placement ?? (await readPlacement(core, namespace, pvc));
  refuseOncePodInUse(placement, pvc);
  if (placement.phase !== 'Bound' && !input.copyOf) {
    // A helper would be the claim's first consumer: with WaitForFirstConsumer it would pick the volume's node.
    throw new StageError(
      'create',
      `PersistentVolumeClaim "${pvc}" is not bound (${placement.phase ?? 'no phase'}), so it holds no data yet`,
      `Nothing to back up until a volume is bound. If its storage class "${placement.storageClassName ?? '(default)'}" binds on first consumer (WaitForFirstConsumer), the claim binds when its workload's pod is scheduled; a backup must not be that first pod, since it would choose the volume's node. Otherwise read the claim's events (kubectl -n ${namespace} describe pvc ${pvc}).`,
    );
  }
  const podSecurity = input.podSecurity ?? (await namespacePodSecurity(core, namespace));
  const root = helperRunsAsRoot(helper, namespace, input.runAsRoot);
  if (root && podSecurity.enforce === 'restricted') {
    throw new StageError(
      'create',
      `the helper was set to run as root, and namespace "${namespace}" enforces Pod Security "restricted:${podSecurity.version}", which refuses root pods`,
      `Run the backup as a non-root user: remove "${namespace}" from nkvm.helper.runAsRoot (NKVM_HELPER_RUN_AS_ROOT) or turn off "run as root" for this backup. Files only root may read are then listed as unreadable. Running as root here needs an administrator to label the namespace pod-security.kubernetes.io/enforce=baseline.`,
    );
  }
  const source = input.copyOf ? await readPlacement(core, namespace, input.copyOf) : placement;
  const identity = helperIdentity(source, root, configuredHelperUser(helper, namespace, input.copyOf ?? pvc));
  const spec = helperPodSpec({
    namespace,
    // Named and labelled for the claim being backed up, also when it reads a snapshot's temporary claim.
    pvc: input.copyOf ?? pvc,
    mountClaim: input.copyOf ? pvc : undefined,
    runId: input.runId,
    image: input.image,
    deadlineSeconds: input.deadlineSeconds ?? helper.deadlineSeconds,
    owner: input.owner,
    leaseSeconds: helper.leaseSeconds,
    pinToNode: placement.node,
    tolerations: placement.tolerations,
    identity,
    imagePullSecrets: [...helper.imagePullSecrets],
    resources: helper.resources,
    extraTolerations: [...helper.tolerations],
    nodeSelector: helper.nodeSelector,
  });
  return { spec, identity, placement, podSecurity };
}
