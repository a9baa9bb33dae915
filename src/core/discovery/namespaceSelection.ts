export interface NamespaceSelection {
  /** Sorted by name, at most the cap. */
  readonly namespaces: string[];
  /** True when the cap left matching namespaces out. */
  readonly truncated: boolean;
}

/**
 * Turns a filter such as `shop, team-*` into a predicate. Namespace names are lowercase DNS
 * labels, so the filter is lowercased too: typing `Shop` should still find `shop`.
 * An empty filter matches everything.
 */
export function namespaceMatcher(filter: string | undefined): (namespace: string) => boolean {
  const patterns = (filter ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p.length > 0);
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*')).map(globToRegExp);
  return (namespace) => exact.has(namespace) || globs.some((g) => g.test(namespace));
}

/** Applies the filter, then the cap, to namespace names in a stable (sorted) order. */
export function selectNamespaces(all: readonly string[], filter: string | undefined, cap: number): NamespaceSelection {
  const matches = namespaceMatcher(filter);
  const sorted = [...new Set(all)].filter(matches).sort();
  const limit = Math.max(0, Math.floor(cap));
  return { namespaces: sorted.slice(0, limit), truncated: sorted.length > limit };
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}
