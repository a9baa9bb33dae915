/**
 * The capabilities containerd gives a container that asks for none (its default OCI spec), in the
 * names Kubernetes uses. A container runtime starts from these, then applies `drop` and `add`.
 */
export const RUNTIME_DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

export interface CapabilityChanges {
  add?: string[];
  drop?: string[];
}

/**
 * The container's capability set as containerd computes it from `securityContext.capabilities`
 * (`ALL` in add grants every capability, `ALL` in drop empties the set, named drops win over named adds), in setpriv's spelling
 * (`dac_override`). `known` lists the capabilities this kernel has, from `setpriv --list-caps`.
 */
export function containerCapabilities(changes: CapabilityChanges | undefined, known: readonly string[]): string[] {
  const normalize = (name: string) => name.trim().toUpperCase().replace(/^CAP_/, '');
  const add = (changes?.add ?? []).map(normalize);
  const drop = (changes?.drop ?? []).map(normalize);
  const all = known.map(normalize);
  for (const name of [...add, ...drop]) {
    if (name !== 'ALL' && !all.includes(name)) throw new Error(`unknown capability "${name}" in securityContext.capabilities`);
  }
  // containerd's order: add ALL, then drop ALL, then the named adds, then the named drops.
  let set = new Set<string>(RUNTIME_DEFAULT_CAPABILITIES.filter((c) => all.includes(c)));
  if (add.includes('ALL')) set = new Set(all);
  if (drop.includes('ALL')) set = new Set();
  for (const name of add) if (name !== 'ALL') set.add(name);
  for (const name of drop) set.delete(name);
  return all.filter((c) => set.has(c)).map((c) => c.toLowerCase());
}
