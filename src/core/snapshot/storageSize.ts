const FACTORS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** Bytes of a Kubernetes storage quantity (`20Gi`, `500M`, `1e9`); undefined when it is not one. */
export function storageBytes(quantity: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|[kMGTP]|[eE]\d+)?$/.exec(quantity?.trim() ?? '');
  if (!m) return undefined;
  const suffix = m[2] ?? '';
  return Number(m[1]) * (/^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : FACTORS[suffix]!);
}

/**
 * The larger of two sizes, as written: a claim from a snapshot must be at least its restoreSize, and a
 * driver that reports `0` (or nothing readable) must not shrink it below the source claim's.
 */
export function largerQuantity(a: string | undefined, b: string | undefined): string | undefined {
  const [x, y] = [storageBytes(a), storageBytes(b)];
  if (x === undefined) return b ?? (a && a !== '0' ? a : undefined);
  if (y === undefined) return x > 0 ? a : b;
  return x >= y ? a : b;
}
