import type { V1Node, V1NodeSelectorRequirement, V1NodeSelectorTerm, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';

export type ScheduleResult = { node: string } | { message: string };

/** Picks a node as kube-scheduler's filters would: nodeSelector, required node affinity, taints and tolerations. */
export function scheduleOnto(pod: V1Pod, nodes: V1Node[], nodeIsFull: (node: string) => string | undefined = () => undefined): ScheduleResult {
  const reasons = new Map<string, number>();
  const fail = (reason: string): void => {
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  };
  const candidates: string[] = [];
  for (const node of nodes) {
    const name = node.metadata!.name!;
    const labels = node.metadata?.labels ?? {};
    if (node.spec?.unschedulable) {
      fail('node(s) were unschedulable');
      continue;
    }
    if (!matchesNodeSelector(pod.spec?.nodeSelector, labels) || !matchesRequiredAffinity(pod, name, labels)) {
      fail("node(s) didn't match Pod's node affinity/selector");
      continue;
    }
    const taint = (node.spec?.taints ?? []).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerated(t, pod.spec?.tolerations ?? []));
    if (taint) {
      fail(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
      continue;
    }
    const full = nodeIsFull(name);
    if (full) {
      fail(full);
      continue;
    }
    candidates.push(name);
  }
  if (candidates.length) {
    // Spread pods: choose the candidate named first after hashing the pod name, for stable but varied placement.
    const hash = [...(pod.metadata?.name ?? '')].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    return { node: candidates[hash % candidates.length] };
  }
  const detail = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).join(', ');
  return { message: `0/${nodes.length} nodes are available: ${detail}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.` };
}

function matchesNodeSelector(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

function matchesRequiredAffinity(pod: V1Pod, nodeName: string, labels: Record<string, string>): boolean {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return true;
  // Terms are ORed; the expressions inside one term are ANDed.
  return terms.some((term: V1NodeSelectorTerm) =>
    (term.matchExpressions ?? []).every((e) => requirementHolds(e, labels[e.key], e.key in labels)) &&
    (term.matchFields ?? []).every((e) => requirementHolds(e, e.key === 'metadata.name' ? nodeName : undefined, e.key === 'metadata.name')),
  );
}

function requirementHolds(req: V1NodeSelectorRequirement, value: string | undefined, present: boolean): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return present && values.includes(value!);
    case 'NotIn':
      return !present || !values.includes(value!);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'Gt':
      return present && Number(value) > Number(values[0]);
    case 'Lt':
      return present && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

export function tolerated(taint: V1Taint, tolerations: V1Toleration[]): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}
