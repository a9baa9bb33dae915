import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { ObjectStore } from '../api/objectStore';
import { imageUserland } from '../exec/imageUserland';
import { containerCapabilities } from '../exec/capabilities';
import { ContainerMount, ContainerProcessSpec } from '../exec/containerRunner';
import { types } from './types';
import { VolumeData } from './volumeData';

/**
 * What an image without `command` runs: BusyBox images start `sh` (which ends at once without a
 * terminal, as on a real node); other images stand for a server that waits and stops cleanly on SIGTERM.
 */
const SERVER_ENTRYPOINT = ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'];

/**
 * The main process's argv, as the runtime combines the image's entrypoint and cmd with `command` and `args`;
 * `entrypointFromImage` when the image's own entrypoint runs, which exists even in images without a shell.
 */
export function mainCommand(container: V1Container): { command: string[]; entrypointFromImage: boolean } {
  if (container.command?.length) return { command: [...container.command, ...(container.args ?? [])], entrypointFromImage: false };
  const userland = imageUserland(container.image ?? '');
  if (userland === 'busybox' || userland === 'shell-without-tar') {
    return container.args?.length ? { command: [...container.args], entrypointFromImage: false } : { command: ['sh'], entrypointFromImage: true };
  }
  return { command: [...SERVER_ENTRYPOINT, ...(container.args ?? [])], entrypointFromImage: true };
}

let knownCapabilities: string[] | undefined;
function kernelCapabilities(): string[] {
  if (!knownCapabilities) {
    const listed = spawnSync('setpriv', ['--list-caps'], { encoding: 'utf8' });
    if (listed.status !== 0) throw new Error(`containers in the sandbox cluster need setpriv (util-linux): ${listed.stderr || listed.error?.message}`);
    knownCapabilities = listed.stdout.split('\n').filter(Boolean);
  }
  return knownCapabilities;
}

/**
 * Everything about a container's processes but the command: its volumes, user, environment, working
 * folder, capabilities and root filesystem. The main process and every exec'd command share it, as
 * they share one container on a node.
 */
export function containerProcessBase(store: ObjectStore, data: VolumeData, pod: V1Pod, container: V1Container): Omit<ContainerProcessSpec, 'command'> {
  const podSc = pod.spec?.securityContext;
  const sc = { ...podSc, ...container.securityContext };
  const groups = [...(podSc?.supplementalGroups ?? []), ...(podSc?.fsGroup !== undefined ? [podSc.fsGroup] : [])];
  return {
    image: container.image ?? '',
    mounts: mountsFor(store, data, pod, container),
    runAsUser: sc.runAsUser,
    // Without runAsGroup a container runs with its image's group, which is 0 for the images used here.
    runAsGroup: sc.runAsGroup ?? (sc.runAsUser !== undefined || groups.length ? 0 : undefined),
    // The runtime adds the pod's supplementalGroups and fsGroup to every container process's groups.
    supplementalGroups: groups,
    env: Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])),
    workingDir: container.workingDir,
    stateDir: data.stateDir,
    capabilities: container.securityContext?.privileged ? undefined : containerCapabilities(container.securityContext?.capabilities, kernelCapabilities()),
    noNewPrivs: container.securityContext?.allowPrivilegeEscalation === false,
    readOnlyRootFilesystem: container.securityContext?.readOnlyRootFilesystem === true,
  };
}

function mountsFor(store: ObjectStore, data: VolumeData, pod: V1Pod, container: V1Container): ContainerMount[] {
  const mounts: ContainerMount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find((v) => v.name === vm.name);
    if (!volume) continue;
    let hostPath: string | undefined;
    let readOnly = !!vm.readOnly;
    if (volume.persistentVolumeClaim) {
      const pvc = store.get(types.pvcs, pod.metadata!.namespace, volume.persistentVolumeClaim.claimName);
      const pvName = (pvc?.spec as { volumeName?: string } | undefined)?.volumeName;
      if (!pvName) continue;
      hostPath = data.volumePath(pvName);
      readOnly ||= !!volume.persistentVolumeClaim.readOnly;
    } else if (volume.emptyDir) {
      hostPath = data.emptyDirPath(pod.metadata!.uid!, volume.name);
    }
    if (!hostPath) continue;
    if (vm.subPath) hostPath = `${hostPath}/${vm.subPath}`;
    mounts.push({ hostPath, mountPath: vm.mountPath, readOnly });
  }
  return mounts;
}
