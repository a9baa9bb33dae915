const suffixes: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The byte count of a storage quantity ("10Gi", "500M", "1e9"), rounded up as resource.Quantity.Value() does. */
export function quantityBytes(quantity: string | number | undefined): number | undefined {
  if (typeof quantity === 'number') return Math.ceil(quantity);
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[kMGTPE]|[eE][-+]?\d+)?$/.exec(quantity ?? '');
  if (!m) return undefined;
  const suffix = m[2] ?? '';
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : suffixes[suffix];
  return Math.ceil(Number(m[1]) * factor);
}
