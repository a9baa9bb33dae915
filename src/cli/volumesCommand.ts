import { discoverVolumes } from '../core/discovery/discoverVolumes';
import type { VolumeInfo } from '../core/discovery/volumeInventory';
import { cliKubeConfig, cliSettings } from './cliSettings';
import { table } from './cliOutput';

export async function volumesCommand(options: { context?: string; namespace?: string; json: boolean }, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  const settings = cliSettings();
  const { kubeConfig } = cliKubeConfig(options.context);
  const inventory = await discoverVolumes(kubeConfig, { namespaceFilter: options.namespace, maxNamespaceScan: settings.maxNamespaceScan, timeoutSeconds: settings.discoveryTimeoutSeconds });
  for (const w of inventory.warnings) err.write(`warning: ${w}\n`);
  if (inventory.namespacesTruncated) err.write(`warning: only the first ${settings.maxNamespaceScan} namespaces were scanned (NKVM_MAX_NAMESPACE_SCAN)\n`);
  if (options.json) {
    out.write(JSON.stringify(inventory, null, 2) + '\n');
    return 0;
  }
  out.write(table(['NAMESPACE', 'NAME', 'STATUS', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'USED BY'], inventory.volumes.map(row)));
  return 0;
}

function row(v: VolumeInfo): string[] {
  const users = v.consumersUnknown
    ? 'unknown (cannot list pods)'
    : v.consumers.map((c) => `${c.owner ? `${c.owner.kind}/${c.owner.name}` : `Pod/${c.pod}`}${c.node ? `@${c.node}` : ''}`).join(', ') || '-';
  return [v.namespace, v.name, v.phase, v.capacity ?? v.requested ?? '-', v.accessModes.map(shortMode).join(',') || '-', v.storageClass ?? '-', users];
}

function shortMode(mode: string): string {
  return { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' }[mode] ?? mode;
}
