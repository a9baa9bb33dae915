import type { V1Container, V1Pod, V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import { ApiError } from './status';

/** The Pod Security Standards levels, as the namespace label `pod-security.kubernetes.io/enforce` names them. */
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
export const ENFORCE_VERSION_LABEL = 'pod-security.kubernetes.io/enforce-version';

export interface EnforcePolicy {
  level: PodSecurityLevel;
  /** `latest` or `v1.32`, as the admission plugin prints it. */
  version: string;
}

interface CheckResult {
  reason: string;
  detail: string;
}

type Check = { id: string; level: 'baseline' | 'restricted'; overrides?: string; run: (pod: V1Pod) => CheckResult | undefined };

/**
 * The enforce policy of a namespace. Without the label the plugin's default applies (privileged
 * unless the cluster's AdmissionConfiguration says otherwise); an unknown level fails closed to
 * restricted, as the real plugin does.
 */
export function enforcePolicy(labels: Record<string, string> | undefined): EnforcePolicy {
  const raw = labels?.[ENFORCE_LABEL];
  const level: PodSecurityLevel = raw === undefined ? 'privileged' : raw === 'privileged' || raw === 'baseline' || raw === 'restricted' ? raw : 'restricted';
  const version = labels?.[ENFORCE_VERSION_LABEL];
  return { level, version: version && /^v1\.\d+$/.test(version) ? version : 'latest' };
}

/** Every violated check of `policy.level`, in the order the real plugin reports them. */
export function podSecurityViolations(level: PodSecurityLevel, pod: V1Pod): CheckResult[] {
  if (level === 'privileged') return [];
  const active = checks.filter((c) => c.level === 'baseline' || level === 'restricted');
  const overridden = new Set(level === 'restricted' ? active.map((c) => c.overrides).filter(Boolean) : []);
  // Baseline IDs sorted, then restricted IDs sorted: the plugin's ordering, so messages match byte for byte.
  const ordered = [...active.filter((c) => c.level === 'baseline' && !overridden.has(c.id)).sort(byId), ...active.filter((c) => c.level === 'restricted').sort(byId)];
  return ordered.map((c) => c.run(pod)).filter((r): r is CheckResult => !!r);
}

/**
 * The 403 the real API server returns for a pod the plugin refuses:
 * `pods "x" is forbidden: violates PodSecurity "restricted:latest": reason (detail), ...`.
 */
export function podSecurityForbidden(name: string, policy: EnforcePolicy, violations: CheckResult[]): ApiError {
  const detail = violations.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(', ');
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `pods "${name}" is forbidden: violates PodSecurity "${policy.level}:${policy.version}": ${detail}`,
    reason: 'Forbidden',
    details: { name, kind: 'pods' },
    code: 403,
  });
}

/** Throws the plugin's 403 when the pod violates its namespace's enforce level. */
export function admitPodSecurity(namespaceLabels: Record<string, string> | undefined, pod: V1Pod): void {
  const policy = enforcePolicy(namespaceLabels);
  const violations = podSecurityViolations(policy.level, pod);
  if (violations.length) throw podSecurityForbidden(pod.metadata?.name ?? '', policy, violations);
}

const byId = (a: Check, b: Check): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function containersOf(pod: V1Pod): V1Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

function containerList(names: string[]): string {
  return `${names.length === 1 ? 'container' : 'containers'} ${names.map((n) => `"${n}"`).join(', ')}`;
}

function quoted(values: string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}

/** `pod and containers "a", "b"` for checks that may be set at either level. */
function setters(podBad: boolean, containers: string[]): string {
  return [...(podBad ? ['pod'] : []), ...(containers.length ? [containerList(containers)] : [])].join(' and ');
}

const sc = (c: V1Container): V1SecurityContext => c.securityContext ?? {};
const podSc = (pod: V1Pod): V1PodSecurityContext => pod.spec?.securityContext ?? {};

const defaultCapabilities = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const restrictedVolumeKinds = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/** The checks a helper pod can run into; the field names and wording are those of k8s.io/pod-security-admission/policy. */
const checks: Check[] = [
  {
    id: 'privileged',
    level: 'baseline',
    run: (pod) => {
      const bad = containersOf(pod).filter((c) => sc(c).privileged === true).map((c) => c.name);
      return bad.length ? { reason: 'privileged', detail: `${containerList(bad)} must not set securityContext.privileged=true` } : undefined;
    },
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    run: (pod) => {
      const used = (['hostIPC', 'hostNetwork', 'hostPID'] as const).filter((k) => pod.spec?.[k] === true);
      return used.length ? { reason: 'host namespaces', detail: used.join(', ') } : undefined;
    },
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    run: (pod) => {
      const bad = (pod.spec?.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
      return bad.length ? { reason: 'hostPath volumes', detail: `${bad.length === 1 ? 'volume' : 'volumes'} ${quoted(bad)}` } : undefined;
    },
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    run: (pod) => {
      const added = new Set<string>();
      const bad = containersOf(pod)
        .filter((c) => {
          const extra = (sc(c).capabilities?.add ?? []).filter((cap) => !defaultCapabilities.includes(cap));
          extra.forEach((cap) => added.add(cap));
          return extra.length > 0;
        })
        .map((c) => c.name);
      return bad.length ? { reason: 'non-default capabilities', detail: `${containerList(bad)} must not include ${quoted([...added].sort())} in securityContext.capabilities.add` } : undefined;
    },
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    run: (pod) => {
      const podBad = podSc(pod).seccompProfile?.type === 'Unconfined';
      const bad = containersOf(pod).filter((c) => sc(c).seccompProfile?.type === 'Unconfined').map((c) => c.name);
      return podBad || bad.length ? { reason: 'seccompProfile', detail: `${setters(podBad, bad)} must not set securityContext.seccompProfile.type to "Unconfined"` } : undefined;
    },
  },
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    run: (pod) => {
      const bad = containersOf(pod).filter((c) => sc(c).allowPrivilegeEscalation !== false).map((c) => c.name);
      return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containerList(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    overrides: 'capabilities_baseline',
    run: (pod) => {
      const missingDrop = containersOf(pod).filter((c) => !(sc(c).capabilities?.drop ?? []).includes('ALL')).map((c) => c.name);
      const forbidden = new Set<string>();
      const adding = containersOf(pod)
        .filter((c) => {
          const extra = (sc(c).capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
          extra.forEach((cap) => forbidden.add(cap));
          return extra.length > 0;
        })
        .map((c) => c.name);
      const details = [
        ...(missingDrop.length ? [`${containerList(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`] : []),
        ...(adding.length ? [`${containerList(adding)} must not include ${quoted([...forbidden].sort())} in securityContext.capabilities.add`] : []),
      ];
      return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
    },
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    overrides: 'hostPathVolumes',
    run: (pod) => {
      const bad = (pod.spec?.volumes ?? []).filter((v) => !restrictedVolumeKinds.some((k) => (v as unknown as Record<string, unknown>)[k] !== undefined)).map((v) => v.name);
      // Go's %q of a sorted []string: ["a" "b"].
      return bad.length ? { reason: 'restricted volume types', detail: `volumes [${bad.sort().map((n) => `"${n}"`).join(' ')}] have restricted types` } : undefined;
    },
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    run: (pod) => {
      const podValue = podSc(pod).runAsNonRoot;
      const explicit = containersOf(pod).filter((c) => sc(c).runAsNonRoot === false).map((c) => c.name);
      if (podValue === false || explicit.length) return { reason: 'runAsNonRoot != true', detail: `${setters(podValue === false, explicit)} must not set securityContext.runAsNonRoot=false` };
      const implicit = containersOf(pod).filter((c) => sc(c).runAsNonRoot === undefined && podValue !== true).map((c) => c.name);
      return implicit.length ? { reason: 'runAsNonRoot != true', detail: `pod or ${containerList(implicit)} must set securityContext.runAsNonRoot=true` } : undefined;
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    run: (pod) => {
      const podBad = podSc(pod).runAsUser === 0;
      const bad = containersOf(pod).filter((c) => sc(c).runAsUser === 0).map((c) => c.name);
      return podBad || bad.length ? { reason: 'runAsUser=0', detail: `${setters(podBad, bad)} must not set runAsUser=0` } : undefined;
    },
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    overrides: 'seccompProfile_baseline',
    run: (pod) => {
      const valid = (t: string | undefined): boolean => t === 'RuntimeDefault' || t === 'Localhost';
      const podProfile = podSc(pod).seccompProfile;
      const podBad = !!podProfile && !valid(podProfile.type);
      const badValues = new Set<string>(podBad ? [podProfile!.type] : []);
      const explicit: string[] = [];
      const implicit: string[] = [];
      for (const c of containersOf(pod)) {
        const profile = sc(c).seccompProfile;
        if (profile && !valid(profile.type)) {
          explicit.push(c.name);
          badValues.add(profile.type);
        } else if (!profile && !(podProfile && !podBad)) implicit.push(c.name);
      }
      if (podBad || explicit.length) return { reason: 'seccompProfile', detail: `${setters(podBad, explicit)} must not set securityContext.seccompProfile.type to ${quoted([...badValues].sort())}` };
      return implicit.length ? { reason: 'seccompProfile', detail: `pod or ${containerList(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` } : undefined;
    },
  },
];
