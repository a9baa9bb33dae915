import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { types } from '../../sandbox/cluster/types';
import { eventually, SandboxFixture } from '../sandboxFixture';

/** The helper pods the sandbox saw, by name, as last stored (so scheduling shows in spec.nodeName). */
export function watchHelperPods(sb: SandboxFixture): Map<string, V1Pod> {
  const seen = new Map<string, V1Pod>();
  sb.cluster.store.subscribe((e) => {
    if (e.resource !== types.pods || e.object.metadata.labels?.['app.kubernetes.io/component'] !== 'backup-helper') return;
    if (e.type === 'ADDED' || e.type === 'MODIFIED') seen.set(e.object.metadata.name!, structuredClone(e.object) as unknown as V1Pod);
  });
  return seen;
}

export async function leftoverHelpers(core: CoreV1Api): Promise<string[]> {
  return (await core.listPodForAllNamespaces({ labelSelector: 'app.kubernetes.io/component=backup-helper' })).items.map((p) => p.metadata!.name!);
}

/** Creates a bound claim (class `standard`, Immediate) and returns its folder on this machine. */
export async function boundClaim(sb: SandboxFixture, namespace: string, name: string, accessModes = ['ReadWriteOnce']): Promise<string> {
  const core = sb.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes, storageClassName: 'standard', resources: { requests: { storage: '1Gi' } } } } });
  return eventually(`${namespace}/${name} bound`, () => {
    try {
      return sb.cluster.volumePath(namespace, name);
    } catch {
      return undefined;
    }
  });
}

/**
 * Writes a tree with what a restore must keep: modes, symlinks (also dangling), a hard link, empty
 * folders, dotfiles and non-ASCII names; owned by `nobody`, the helper's default user.
 */
export function seedTree(root: string, bigFileBytes = 0): void {
  const script = [
    'set -e',
    'mkdir -p docs/nested "Ünïcødé 名前" cache/empty .config bin',
    'printf "hello\\n" > docs/readme.txt',
    'printf "secret\\n" > docs/private.key && chmod 600 docs/private.key',
    'printf "#!/bin/sh\\necho hi\\n" > bin/run.sh && chmod 755 bin/run.sh',
    'printf "nested\\n" > docs/nested/deep.txt && chmod 640 docs/nested/deep.txt',
    'printf "ü\\n" > "Ünïcødé 名前/résumé ✓.txt"',
    'printf "x=1\\n" > .config/settings',
    ': > .hidden-empty',
    'ln -s docs/readme.txt latest',
    'ln -s docs/not-there.txt dangling-link',
    'ln docs/readme.txt docs/readme-hardlink.txt',
    'chmod 750 docs/nested',
    'chmod 1777 cache',
    ...(bigFileBytes ? [`head -c ${bigFileBytes} /dev/urandom > big.bin`] : []),
    'chown -R 65534:65534 .',
  ].join('\n');
  execFileSync('sh', ['-c', script], { cwd: root });
}

/** Paths under a folder with their type letter (`f`, `d`, `l`), as `find` sees them (the root left out). */
export function folderListing(root: string): string[] {
  // A volume's own lost+found (made by the file system, as on a fresh ext4 volume) is not its data.
  const args = ['.', '-mindepth', '1', '(', '-path', './lost+found', '-prune', ')', '-o', '-printf', '%P %y\\n'];
  return execFileSync('find', args, { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}
