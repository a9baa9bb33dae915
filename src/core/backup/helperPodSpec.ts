import type { V1Pod, V1Toleration } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { HelperIdentity } from './helperIdentity';
import { leaseCommand } from './helperLeaseScript';
import { defaultHelperOwner, type HelperOwner, leaseAnnotations } from './helperOwner';

export const HELPER_COMPONENT_LABEL = 'app.kubernetes.io/component';
export const HELPER_COMPONENT = 'backup-helper';
export const RUN_ID_LABEL = 'nkvm.dev/run-id';
export const PVC_LABEL = 'nkvm.dev/pvc';
export const HELPER_CONTAINER = 'helper';
export const DATA_MOUNT = '/data';
/** Time the helper gets to stop after a TERM; its main loop exits at once, so this is only a bound. */
export const HELPER_GRACE_SECONDS = 10;
/** The lease when a caller names none, as the nkvm.helper.leaseSeconds default. */
export const DEFAULT_LEASE_SECONDS = 120;

/** Requests and limits of the helper container; quotas in the namespace may demand both. */
export interface HelperResources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

/**
 * The helper streams through a pipeline (tar, gzip, tee and sha256sum run at once): a CPU limit of one
 * core makes them take turns, and a backup then runs about a quarter slower than `tar czf` alone.
 * Two cores let gzip, the slowest stage, set the pace; the small request keeps scheduling easy.
 */
export const DEFAULT_HELPER_RESOURCES = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '2', memory: '256Mi' } } as const;

export interface HelperPodInput {
  namespace: string;
  pvc: string;
  /** The claim the helper mounts when it is not `pvc` itself: the temporary claim made from a snapshot of it. */
  mountClaim?: string;
  runId: string;
  image: string;
  /** Seconds after which the cluster stops the pod even if nobody deletes it. */
  deadlineSeconds: number;
  /** Who renews the helper's lease and how long it lasts; default: this process, DEFAULT_LEASE_SECONDS. */
  owner?: HelperOwner;
  leaseSeconds?: number;
  /** The node where a running pod mounts this ReadWriteOnce volume. */
  pinToNode?: string;
  /** The consuming pod's tolerations, so the helper may run on its (maybe tainted) node. */
  tolerations?: V1Toleration[];
  /** Who the helper runs as (see helperIdentity). */
  identity?: HelperIdentity;
  /** Without `identity`: these ids as given, and the image's user when absent. */
  runAsUser?: number;
  runAsGroup?: number;
  imagePullSecrets?: string[];
  /** Overrides of {@link DEFAULT_HELPER_RESOURCES}, key by key. */
  resources?: HelperResources;
  /** Tolerations from the settings, added to the consumer's. */
  extraTolerations?: V1Toleration[];
  nodeSelector?: Record<string, string>;
}

/** A label value: at most 63 characters, so long names keep a prefix and a short hash. */
export function labelValue(value: string): string {
  if (value.length <= 63) return value;
  return `${value.slice(0, 52)}-${createHash('sha256').update(value).digest('hex').slice(0, 10)}`;
}

/**
 * The helper pod: mounts the claim read-only, holds no credentials, drops every capability, and
 * stops itself when its owner stops renewing its lease (see helperLeaseScript) or at its deadline. Never sets fsGroup, which would make the kubelet chown the user's files.
 * As a non-root user it meets Pod Security "restricted"; as root (an explicit choice) "baseline",
 * keeping only DAC_OVERRIDE so root can read files of every owner.
 */
export function helperPodSpec(input: HelperPodInput): V1Pod {
  const identity = input.identity;
  const root = identity?.source === 'root';
  const tolerations = mergeTolerations(input.tolerations ?? [], input.extraTolerations ?? []);
  const prefix = `nkvm-backup-${input.pvc}`.slice(0, 40).replace(/[-.]+$/, '');
  const leaseSeconds = input.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${prefix}-`,
      namespace: input.namespace,
      labels: {
        'app.kubernetes.io/name': 'nerdy-k8s-volume-manager',
        [HELPER_COMPONENT_LABEL]: HELPER_COMPONENT,
        'app.kubernetes.io/managed-by': 'nerdy-k8s-volume-manager',
        [RUN_ID_LABEL]: labelValue(input.runId),
        [PVC_LABEL]: labelValue(input.pvc),
      },
      annotations: {
        'nkvm.dev/pvc': input.pvc,
        'nkvm.dev/purpose': 'Reads the volume for a backup; deleted when the backup ends.',
        ...leaseAnnotations(input.owner ?? defaultHelperOwner(), leaseSeconds),
      },
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: input.deadlineSeconds,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: HELPER_GRACE_SECONDS,
      securityContext: {
        ...(identity
          ? { runAsUser: identity.runAsUser, ...(root ? {} : { runAsNonRoot: true }), ...(identity.runAsGroup !== undefined ? { runAsGroup: identity.runAsGroup } : {}) }
          : {
              ...(input.runAsUser !== undefined ? { runAsUser: input.runAsUser, runAsNonRoot: input.runAsUser !== 0 } : {}),
              ...(input.runAsGroup !== undefined ? { runAsGroup: input.runAsGroup } : {}),
            }),
        // The consumer's fsGroup as a supplemental group reads what the workload reads through it;
        // fsGroup itself would make the kubelet chown the volume.
        ...(identity?.supplementalGroups?.length ? { supplementalGroups: [...identity.supplementalGroups] } : {}),
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(input.imagePullSecrets?.length ? { imagePullSecrets: input.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...(tolerations.length ? { tolerations } : {}),
      ...(input.nodeSelector && Object.keys(input.nodeSelector).length ? { nodeSelector: { ...input.nodeSelector } } : {}),
      ...(input.pinToNode
        ? {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [input.pinToNode] }] }],
                },
              },
            },
          }
        : {}),
      containers: [
        {
          name: HELPER_CONTAINER,
          image: input.image,
          imagePullPolicy: 'IfNotPresent',
          command: leaseCommand(leaseSeconds),
          resources: {
            requests: { ...DEFAULT_HELPER_RESOURCES.requests, ...input.resources?.requests },
            limits: { ...DEFAULT_HELPER_RESOURCES.limits, ...input.resources?.limits },
          },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], ...(root ? { add: ['DAC_OVERRIDE'] } : {}) } },
          volumeMounts: [
            { name: 'data', mountPath: DATA_MOUNT, readOnly: true },
            { name: 'scratch', mountPath: '/tmp' },
          ],
        },
      ],
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: input.mountClaim ?? input.pvc, readOnly: true } },
        { name: 'scratch', emptyDir: { sizeLimit: '16Mi' } },
      ],
    },
  };
}

/** The consumer's tolerations plus the configured ones, without repeating an identical one. */
function mergeTolerations(fromConsumer: V1Toleration[], extra: V1Toleration[]): V1Toleration[] {
  const seen = new Set<string>();
  return [...fromConsumer, ...extra].filter((t) => {
    const key = JSON.stringify([t.key, t.operator, t.value, t.effect, t.tolerationSeconds]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
