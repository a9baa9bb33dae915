import { CoreV1Api, KubeConfig, V1Toleration } from '@kubernetes/client-node';
import { checkPermissions, PermissionCheck, permissionLabel, summarizePermissionChecks } from '../access/checkPermissions';
import { StageError } from '../backup/backupStage';
import { DEFAULT_HELPER_POD_SETTINGS, type HelperPodSettings } from '../config/helperSettings';
import { describeIdentity } from '../backup/helperIdentity';
import { dryRunHelperPod } from '../backup/helperPod';
import { HelperPlacement, readPlacement } from '../backup/helperPlacement';
import { prepareHelperPod } from '../backup/helperPreparation';
import { describePodSecurity, namespacePodSecurity, NamespacePodSecurity } from '../backup/namespacePodSecurity';
import { describeKubeError } from '../kube/describeKubeError';
import { withKubeRetry } from '../kube/retryTransient';
import type { HelperOwner } from '../backup/helperOwner';
import { ImageProbeResult, probeHelperImage } from './imageProbe';
import type { BackupHookSettings } from '../config/backupHookSettings';
import type { BackupHooks } from '../hooks/backupHooks';
import type { ConsistencyMode } from '../snapshot/consistencyMode';
import { SnapshotApi } from '../snapshot/snapshotApi';
import { preflightConsistency, preflightHooks, type PreflightConsistency, type ReadFindings } from './backupReadPreflight';

export type PreflightVerdict = 'ready' | 'warning' | 'blocked';

export interface PreflightTarget {
  namespace: string;
  pvc: string;
}

export interface PreflightSettings {
  helperImage: string;
  helperDeadlineSeconds?: number;
  helperPod?: Partial<HelperPodSettings>;
  /** The per-backup "run as root" choice; absent: nkvm.helper.runAsRoot decides. */
  runAsRoot?: boolean;
  /** Start the helper image once per namespace (no volume) to see that it runs and has its tools; default true. */
  probeImage?: boolean;
  /** How long that image may take to start (nkvm.helperPodTimeoutSeconds). */
  helperPodTimeoutSeconds?: number;
  helperOwner?: HelperOwner;
  signal?: AbortSignal;
  /** nkvm.backup.consistency; default auto. */
  consistency?: ConsistencyMode;
  /** nkvm.backup.snapshotStorageClass; empty or absent: the claim's own class. */
  snapshotStorageClass?: string;
  /** nkvm.backup.hooks. */
  hooks?: BackupHookSettings;
}

/** What a backup of one claim would meet, found without creating anything. */
export interface VolumePreflight extends PreflightTarget {
  verdict: PreflightVerdict;
  /** Why it is blocked or needs attention, each with what to do. */
  reasons: string[];
  /** Facts worth knowing that need no action. */
  notes: string[];
  claim: { phase?: string; accessModes: string[]; storageClassName?: string };
  consumers: { pod: string; node: string }[];
  podSecurity: string;
  helper: { runAs?: string; image: string; imagePullSecrets: string[]; node?: string; tolerations: V1Toleration[] };
  permissions: PermissionCheck[];
  /** The server-side dry run of the helper pod; absent when the backup is refused before it. */
  dryRun?: { ok: true } | { ok: false; message: string; nextStep: string };
  /** The helper image started in the namespace; absent when not checked (refused earlier, or turned off). */
  image?: ImageProbeResult;
  /** How a backup would read the claim (snapshot or live) and why; absent when the claim could not be read. */
  consistency?: PreflightConsistency;
  /** The hooks that would run around the backup; absent when the pods could not be listed. */
  hooks?: BackupHooks;
}

/**
 * Checks, for each claim, everything a backup needs — permissions (SelfSubjectAccessReview), the
 * claim's state and consumers, the namespace's Pod Security level, who the helper runs as, and the
 * helper pod itself through a server-side dry run — and gives a verdict. Creates no helper for a
 * claim; the image check starts one short-lived pod per namespace that mounts nothing (see imageProbe).
 */
export async function preflightVolumes(kubeConfig: KubeConfig, targets: readonly PreflightTarget[], settings: PreflightSettings): Promise<VolumePreflight[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const snapshots = new SnapshotApi(kubeConfig);
  const permissions = new Map<string, Promise<PermissionCheck[]>>();
  const podSecurity = new Map<string, Promise<NamespacePodSecurity>>();
  const images = new Map<string, Promise<ImageProbeResult>>();
  const once = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> => {
    if (!cache.has(key)) cache.set(key, load());
    return cache.get(key)!;
  };
  const results: VolumePreflight[] = [];
  for (const target of targets) {
    results.push(
      await preflightOne(core, target, settings, {
        permissions: await once(permissions, target.namespace, () => checkPermissions(kubeConfig, target.namespace)),
        podSecurity: await once(podSecurity, target.namespace, () => namespacePodSecurity(core, target.namespace)),
        probeImage: () => once(images, target.namespace, () => probeImage(kubeConfig, target.namespace, settings)),
        snapshots,
      }),
    );
  }
  return results;
}

interface SharedChecks {
  permissions: PermissionCheck[];
  podSecurity: NamespacePodSecurity;
  probeImage: () => Promise<ImageProbeResult>;
  snapshots: SnapshotApi;
}

function probeImage(kubeConfig: KubeConfig, namespace: string, settings: PreflightSettings): Promise<ImageProbeResult> {
  const helper = { ...DEFAULT_HELPER_POD_SETTINGS, ...settings.helperPod };
  return probeHelperImage(kubeConfig, {
    namespace,
    image: settings.helperImage,
    imagePullSecrets: [...helper.imagePullSecrets],
    deadlineSeconds: settings.helperDeadlineSeconds ?? helper.deadlineSeconds,
    leaseSeconds: helper.leaseSeconds,
    owner: settings.helperOwner,
    startTimeoutSeconds: settings.helperPodTimeoutSeconds ?? 120,
    signal: settings.signal,
  });
}

async function preflightOne(core: CoreV1Api, target: PreflightTarget, settings: PreflightSettings, shared: SharedChecks): Promise<VolumePreflight> {
  const { namespace, pvc } = target;
  const helperSettings = { ...DEFAULT_HELPER_POD_SETTINGS, ...settings.helperPod };
  const blocked: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const report: VolumePreflight = {
    ...target,
    verdict: 'ready',
    reasons: [],
    notes,
    claim: { accessModes: [] },
    consumers: [],
    podSecurity: describePodSecurity(shared.podSecurity),
    helper: { image: settings.helperImage, imagePullSecrets: [...helperSettings.imagePullSecrets], tolerations: [] },
    permissions: shared.permissions,
  };

  const missing = shared.permissions.filter((p) => !p.allowed && !p.onlyBefore);
  if (missing.length) blocked.push(summarizePermissionChecks(namespace, missing));
  const legacy = shared.permissions.filter((p) => !p.allowed && p.onlyBefore);
  if (legacy.length) warnings.push(`Not granted: ${legacy.map((p) => `${permissionLabel(p)} (needed by API servers before ${p.onlyBefore})`).join(', ')}; backups fail on such servers.`);
  if (shared.podSecurity.unknownBecause) warnings.push(`The namespace's Pod Security level is unknown (${shared.podSecurity.unknownBecause}); the dry run below still shows whether the helper is admitted.`);

  let placement: HelperPlacement | undefined;
  try {
    placement = await readPlacement(core, namespace, pvc);
  } catch (e) {
    blocked.push(reasonOf(e));
  }
  if (placement) {
    report.claim = { phase: placement.phase, accessModes: placement.accessModes, storageClassName: placement.storageClassName };
    report.consumers = placement.consumerNodes;
    if (placement.phase === 'Pending' && (await waitsForFirstConsumer(core, namespace, pvc))) {
      notes.push(`The claim waits for its first consumer (WaitForFirstConsumer on storage class "${placement.storageClassName ?? '(default)'}"): it binds, and its volume is placed, when its workload's pod is scheduled.`);
    }
    const rwo = placement.accessModes.includes('ReadWriteOnce') && !placement.accessModes.some((m) => m === 'ReadWriteMany' || m === 'ReadOnlyMany');
    const nodes = [...new Set(placement.consumerNodes.map((c) => c.node))];
    if (rwo && placement.node) {
      notes.push(
        `ReadWriteOnce and mounted by pod ${placement.consumers[0]} on node ${placement.node}: the helper is pinned to ${placement.node} with that pod's tolerations (on any other node it would wait with a Multi-Attach error, since the volume can be attached to one node at a time).`,
      );
      if (nodes.length > 1) warnings.push(`Pods on ${nodes.length} nodes (${nodes.join(', ')}) mount this ReadWriteOnce claim; all but one of them are likely stuck with a Multi-Attach error.`);
    }
    if (!placement.consumers.length) notes.push('No running pod mounts the claim: the helper may run on any node that can attach the volume.');
    // Only reads: no VolumeSnapshot is cut and no hook runs.
    const take = <T>(found: ReadFindings<T>): T | undefined => {
      blocked.push(...found.blocked);
      warnings.push(...found.warnings);
      notes.push(...found.notes);
      return found.value;
    };
    report.consistency = take(await preflightConsistency(core, shared.snapshots, target, settings.consistency ?? 'auto', settings.snapshotStorageClass));
    const pods = await withKubeRetry(() => core.listNamespacedPod({ namespace })).catch(() => undefined);
    if (pods) report.hooks = take(preflightHooks(pods.items, target, settings.hooks));
  }

  if (placement && !blocked.length) {
    try {
      const prepared = await prepareHelperPod(core, {
        namespace,
        pvc,
        runId: 'preflight',
        image: settings.helperImage,
        deadlineSeconds: settings.helperDeadlineSeconds,
        helper: helperSettings,
        runAsRoot: settings.runAsRoot,
        placement,
        podSecurity: shared.podSecurity,
      });
      report.helper = { ...report.helper, runAs: describeIdentity(prepared.identity, placement.consumers[0]), node: placement.node, tolerations: prepared.spec.spec?.tolerations ?? [] };
      if (prepared.identity.source === 'default' && placement.consumers.length) {
        warnings.push(`Pod ${placement.consumers[0]} names no non-root user, so the helper runs as ${report.helper.runAs}: files only root or their owner may read are skipped and the backup is partial. Choose root (nkvm.helper.runAsRoot) where the namespace allows it, or set runAsUser on the workload.`);
      } else if (prepared.identity.source === 'default') {
        notes.push(`The helper runs as ${report.helper.runAs}; files only their owner may read are listed as unreadable and the backup is partial.`);
      }
      const dryRun = await dryRunHelperPod(core, prepared.spec);
      report.dryRun = dryRun.ok ? { ok: true } : { ok: false, message: dryRun.error.causeText, nextStep: dryRun.error.nextStep };
      if (!dryRun.ok) blocked.push(`${dryRun.error.causeText}. ${dryRun.error.nextStep}`);
      if (dryRun.ok && settings.probeImage !== false) {
        report.image = await shared.probeImage();
        if (report.image.ok) notes.push(`The helper image ${settings.helperImage} starts in "${namespace}" and has every tool the helper uses (${report.image.userland}).`);
        else blocked.push(`${report.image.cause}. ${report.image.nextStep}`);
      }
    } catch (e) {
      blocked.push(reasonOf(e));
    }
  }
  if (report.helper.imagePullSecrets.length) notes.push(`Pull secrets ${report.helper.imagePullSecrets.map((s) => `"${s}"`).join(', ')} are passed to the helper; that they exist in "${namespace}" is not checked (the tool has no access to Secrets).`);

  report.verdict = blocked.length ? 'blocked' : warnings.length ? 'warning' : 'ready';
  report.reasons = [...blocked, ...warnings];
  return report;
}

/** The claim's events say WaitForFirstConsumer while it waits for a pod (the persistent volume controller records them). */
async function waitsForFirstConsumer(core: CoreV1Api, namespace: string, pvc: string): Promise<boolean> {
  try {
    const events = await withKubeRetry(() => core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${pvc},involvedObject.kind=PersistentVolumeClaim` }));
    return events.items.some((e) => e.reason === 'WaitForFirstConsumer');
  } catch {
    return false;
  }
}

function reasonOf(e: unknown): string {
  if (e instanceof StageError) return `${e.causeText}. ${e.nextStep}`;
  return describeKubeError(e).message;
}
