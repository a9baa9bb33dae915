/** A pod refused by the PodSecurity admission plugin, read from its 403 message. */
export interface PodSecurityRefusal {
  /** `restricted:latest` */
  policy: string;
  /** The violated rules as the plugin names them: `runAsNonRoot != true`, `seccompProfile`, ... */
  rules: string[];
  /** Everything after `violates PodSecurity "...": `, the plugin's own words. */
  detail: string;
}

/**
 * Reads `... violates PodSecurity "restricted:latest": rule (detail), rule (detail)`. Details hold
 * commas of their own, so the list is split only at commas outside parentheses.
 */
export function parsePodSecurityRefusal(message: string): PodSecurityRefusal | undefined {
  const m = /violates PodSecurity "([^"]+)": (.*)$/s.exec(message);
  if (!m) return undefined;
  const text = m[2];
  const segments: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth = Math.max(0, depth - 1);
    else if (text[i] === ',' && depth === 0) {
      segments.push(text.slice(start, i));
      start = i + 1;
    }
  }
  segments.push(text.slice(start));
  const rules = segments.map((s) => s.replace(/\s*\(.*$/s, '').trim()).filter(Boolean);
  return { policy: m[1], rules, detail: text };
}

/** What to change for each rule the helper can break; the helper meets every other one by itself. */
export function podSecurityFix(namespace: string, refusal: PodSecurityRefusal): string {
  const asRoot = refusal.rules.some((r) => r === 'runAsNonRoot != true' || r === 'runAsUser=0');
  const fixes: string[] = [];
  if (asRoot) {
    fixes.push(
      `The helper was set to run as root, which "${refusal.policy}" forbids: remove "${namespace}" from nkvm.helper.runAsRoot (NKVM_HELPER_RUN_AS_ROOT) to run it as a non-root user, or ask an administrator to label the namespace pod-security.kubernetes.io/enforce=baseline.`,
    );
  }
  const other = refusal.rules.filter((r) => r !== 'runAsNonRoot != true' && r !== 'runAsUser=0');
  if (other.length) {
    fixes.push(
      `The namespace enforces Pod Security "${refusal.policy}" and the helper pod breaks ${other.map((r) => `"${r}"`).join(', ')}: the helper sets these fields itself, so a mutating webhook or an image setting changed them; check the helper image (nkvm.helperImage) and the namespace's admission webhooks, or ask an administrator for a namespace with a lower level.`,
    );
  }
  return fixes.join(' ');
}
