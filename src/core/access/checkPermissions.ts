import { AuthorizationV1Api, KubeConfig } from '@kubernetes/client-node';
import type { BackupStage } from '../backup/backupStage';
import { SNAPSHOT_GROUP } from '../snapshot/snapshotApi';
import { describeRetriedKubeError, KubeRetryOptions, withKubeRetry } from '../kube/retryTransient';
import { shellWord } from '../report/triageCommands';

/**
 * One request the tool makes, as the authorizer sees it. The lists below are the single source of
 * the permissions: deploy/k8s/rbac/ grants exactly these, and the RBAC tests hold both to the requests
 * the engine really sends.
 */
export interface RequiredPermission {
  readonly verb: string;
  /** API group; '' is the core group. */
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  /** Absent for a cluster-wide permission. */
  readonly namespace?: string;
  /** The backup stage that needs it, or `discovery` for the volumes tree. */
  readonly stage: BackupStage | 'discovery';
  readonly why: string;
  /** Set when only API servers older than this version ask for it. */
  readonly onlyBefore?: string;
  /** What alone asks for it (restores into a new claim, point-in-time backups); live backups work without it. */
  readonly onlyFor?: string;
}

export interface PermissionCheck extends RequiredPermission {
  readonly allowed: boolean;
  /** The authorizer's words (`RBAC: allowed by RoleBinding ...`); RBAC gives none for a plain no. */
  readonly reason: string;
  /** The same question from a shell, with the same credentials: `kubectl auth can-i ...`. */
  readonly command: string;
}

/** The RoleBinding that grants the backup permissions in one namespace. */
export const RUNTIME_ROLE_BINDING = 'nkvm-runtime';
export const RUNTIME_ROLE_BINDING_TEMPLATE = 'deploy/k8s/rbac/rolebinding-runtime-template.yaml';

/** What one backup (and restore) does in its namespace, stage by stage (the ClusterRole nkvm-runtime). */
export function requiredPermissions(namespace: string): RequiredPermission[] {
  const core = (verb: string, resource: string, stage: BackupStage, why: string, extra: Partial<RequiredPermission> = {}): RequiredPermission => ({ verb, group: '', resource, namespace, stage, why, ...extra });
  const snapshot = (verb: string, why: string): RequiredPermission => ({ verb, group: SNAPSHOT_GROUP, resource: 'volumesnapshots', namespace, stage: 'snapshot', why, onlyFor: 'point-in-time backups' });
  return [
    core('get', 'persistentvolumeclaims', 'create', "read the claim's access modes to decide where the helper pod may run"),
    core('list', 'pods', 'create', 'find the pods that mount the claim, to run the helper on their node, with their tolerations and user'),
    core('create', 'pods', 'create', 'start the helper pod that mounts the claim read-only'),
    core('get', 'pods', 'wait', 'follow the helper pod until it runs'),
    core('watch', 'pods', 'wait', 'see the helper pod run, and go, the moment it does instead of at the next poll', {
      onlyFor: 'quick starts (the helper watched rather than polled)',
    }),
    core('list', 'events', 'wait', 'quote the helper pod’s events when it cannot start'),
    core('create', 'pods', 'exec', 'stream the archive out of the helper pod over WebSocket exec', { subresource: 'exec' }),
    core('get', 'pods', 'exec', 'the same on API servers before 1.35, which authorize WebSocket exec as get', { subresource: 'exec', onlyBefore: '1.35' }),
    core('patch', 'pods', 'exec', 'record on the helper pod that its lease was renewed, so other windows leave it alone'),
    core('delete', 'pods', 'cleanup', 'remove the helper pod when the backup ends or is cancelled'),
    core('create', 'persistentvolumeclaims', 'create', 'create the claim a restore into a new PVC writes into, and the temporary claim a point-in-time backup reads its snapshot through', {
      onlyFor: 'restores into a new PVC and point-in-time backups',
    }),
    core('delete', 'persistentvolumeclaims', 'cleanup', 'remove a point-in-time backup’s temporary claim, and the claim a failed or cancelled restore created', {
      onlyFor: 'restores into a new PVC and point-in-time backups',
    }),
    snapshot('create', 'cut the VolumeSnapshot a point-in-time backup reads'),
    snapshot('get', 'follow the VolumeSnapshot until it is ready to use, and until it is gone'),
    snapshot('delete', 'remove the VolumeSnapshot when the backup ends or is cancelled'),
  ];
}

/** What the volumes tree and the leftover-helper sweep read in every namespace (the ClusterRole nkvm-cluster-discovery). */
export function discoveryPermissions(): RequiredPermission[] {
  const list = (group: string, resource: string, why: string): RequiredPermission => ({ verb: 'list', group, resource, stage: 'discovery', why });
  return [
    list('', 'namespaces', 'show the namespaces of the cluster'),
    list('', 'persistentvolumeclaims', 'show the claims with capacity, storage class, access modes and phase'),
    list('', 'pods', 'show which pods mount each claim, and find helper pods left behind in any namespace'),
    list('apps', 'replicasets', 'lead from a pod to the Deployment that owns it'),
    list('batch', 'jobs', 'lead from a pod to the CronJob that owns it'),
    { verb: 'get', group: '', resource: 'persistentvolumes', stage: 'discovery', why: 'find the CSI driver of a claim’s volume, to back it up from a snapshot where the driver can' },
    list(SNAPSHOT_GROUP, 'volumesnapshotclasses', 'find the VolumeSnapshotClass for a claim’s CSI driver'),
    list(SNAPSHOT_GROUP, 'volumesnapshots', 'find VolumeSnapshots a point-in-time backup left behind, in any namespace'),
  ];
}

/** `create pods/exec`: how a permission reads in messages. */
export function permissionLabel(p: Pick<RequiredPermission, 'verb' | 'group' | 'resource' | 'subresource'>): string {
  const resource = p.group ? `${p.resource}.${p.group}` : p.resource;
  return `${p.verb} ${resource}${p.subresource ? `/${p.subresource}` : ''}`;
}

/**
 * The `kubectl auth can-i` line asking the same question. A subresource goes in --subresource:
 * `kubectl auth can-i create pods/exec` would ask about a pod named "exec".
 */
export function canICommand(p: RequiredPermission, context?: string): string {
  const words = ['kubectl', ...(context ? ['--context', shellWord(context)] : []), 'auth', 'can-i', p.verb, p.group ? `${p.resource}.${p.group}` : p.resource];
  if (p.subresource) words.push(`--subresource=${p.subresource}`);
  words.push(...(p.namespace ? ['-n', shellWord(p.namespace)] : ['--all-namespaces']));
  return words.join(' ');
}

/**
 * Asks the API server, with the kubeconfig's own credentials, whether each permission a backup in
 * `namespace` needs is granted (one SelfSubjectAccessReview each; every authenticated user may
 * create those). Rejects only when the questions cannot be asked at all; a throttled or briefly
 * unavailable server (429, 5xx, reset connections) is asked again first.
 */
export async function checkPermissions(kubeConfig: KubeConfig, namespace: string, options: Pick<KubeRetryOptions, 'signal' | 'onRetry'> = {}): Promise<PermissionCheck[]> {
  const api = kubeConfig.makeApiClient(AuthorizationV1Api);
  const context = kubeConfig.getCurrentContext() || undefined;
  return Promise.all(
    requiredPermissions(namespace).map(async (p) => {
      let status;
      try {
        const review = await withKubeRetry(
          () =>
            api.createSelfSubjectAccessReview({
              body: {
                apiVersion: 'authorization.k8s.io/v1',
                kind: 'SelfSubjectAccessReview',
                spec: { resourceAttributes: { namespace: p.namespace, verb: p.verb, group: p.group, resource: p.resource, subresource: p.subresource } },
              },
            }),
          options,
        );
        status = review.status;
      } catch (e) {
        if (options.signal?.aborted) throw e;
        throw new Error(`Could not ask the API server whether "${permissionLabel(p)}" is allowed in "${namespace}": ${describeRetriedKubeError(e).message}`, { cause: e });
      }
      return { ...p, allowed: status?.allowed === true, reason: status?.reason || status?.evaluationError || '', command: canICommand(p, context) };
    }),
  );
}

/** One sentence for the user: all granted, or which permissions are missing and what to apply. */
export function summarizePermissionChecks(namespace: string, checks: readonly PermissionCheck[]): string {
  const missing = checks.filter((c) => !c.allowed);
  if (!missing.length) return `Backups and restores in "${namespace}" have every permission they need.`;
  const fix = `Apply ${RUNTIME_ROLE_BINDING_TEMPLATE} for "${namespace}" (RoleBinding ${RUNTIME_ROLE_BINDING}).`;
  const names = (list: readonly PermissionCheck[]) => list.map((c) => permissionLabel(c) + (c.onlyBefore ? ` (only for API servers before ${c.onlyBefore})` : '')).join(', ');
  const forBackups = missing.filter((c) => !c.onlyFor);
  if (!forBackups.length) {
    const uses = [...new Set(missing.map((c) => c.onlyFor!))].join('; ');
    return `Live backups in "${namespace}" have every permission they need; ${uses} are missing: ${names(missing)}. ${fix}`;
  }
  return `Backups in "${namespace}" are missing: ${names(missing)}. ${fix}`;
}
