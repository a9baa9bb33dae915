import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { KubeObject } from './objectStore';
import { partialMetadata } from './partialMetadata';
import { snapshotPrinters } from './snapshotTablePrinters';

interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

interface TablePrinter {
  columns: ColumnDefinition[];
  cells(obj: KubeObject, now: number): (string | number | boolean | null)[];
}

const column = (name: string, description: string, extra: Partial<ColumnDefinition> = {}): ColumnDefinition => ({ name, type: 'string', format: '', description, priority: 0, ...extra });
const nameColumn = column('Name', 'Name must be unique within a namespace.', { format: 'name' });
const ageColumn = column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** The API server's printers (pkg/printers/internalversion) for the resources the sandbox prints as a Table. */
const printers: Record<string, TablePrinter> = {
  pods: {
    columns: [
      nameColumn,
      column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      column('Status', 'The aggregate status of the containers in this pod.'),
      column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      ageColumn,
      column('IP', 'podIP address allocated to the pod. Routable at least within the cluster.', { priority: 1 }),
      column('Node', 'NodeName indicates in which node this pod is scheduled.', { priority: 1 }),
      column('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', { priority: 1 }),
      column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', { priority: 1 }),
    ],
    cells: (obj, now) => podCells(obj as unknown as V1Pod, now),
  },
  persistentvolumeclaims: {
    columns: [
      nameColumn,
      column('Status', 'status represents the current information/status of a persistent volume claim.'),
      column('Volume', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      column('Capacity', 'capacity represents the actual resources of the underlying volume.'),
      column('Access Modes', 'accessModes contains the actual access modes the volume backing the PVC has.'),
      column('StorageClass', 'storageClassName is the name of the StorageClass required by the claim.'),
      column('VolumeAttributesClass', 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.'),
      ageColumn,
      column('VolumeMode', 'volumeMode defines what type of volume is required by the claim.', { priority: 1 }),
    ],
    cells: (obj, now) => claimCells(obj as unknown as V1PersistentVolumeClaim, now),
  },
  ...Object.fromEntries(
    Object.entries(snapshotPrinters(nameColumn)).map(([plural, p]): [string, TablePrinter] => [plural, { columns: p.columns, cells: (obj, now) => p.cells(obj, now, humanDuration) }]),
  ),
};

export function hasTablePrinter(plural: string): boolean {
  return plural in printers;
}

/**
 * A `meta.k8s.io` Table as the API server answers `Accept: application/json;as=Table;...`: every
 * column (kubectl hides priority 1 unless `-o wide`), one row per object with its metadata.
 */
export function toTable(plural: string, objects: KubeObject[], listMetadata: Record<string, unknown>, version: string, includeObject: string | null): object {
  const printer = printers[plural];
  if (!printer) throw new Error(`no table printer for ${plural}`);
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: listMetadata,
    columnDefinitions: printer.columns,
    rows: objects.map((obj) => ({
      cells: printer.cells(obj, now),
      ...(includeObject === 'None' ? {} : { object: includeObject === 'Object' ? obj : partialMetadata(obj, 'v1') }),
    })),
  };
}

/** The STATUS, READY and RESTARTS kubectl shows for a pod (printPod). */
function podCells(pod: V1Pod, now: number): (string | number)[] {
  let reason: string = pod.status?.reason || pod.status?.phase || '';
  let restarts = 0;
  let ready = 0;
  let hasRunning = false;
  let lastRestart = 0;
  const statuses = pod.status?.containerStatuses ?? [];
  for (let i = statuses.length - 1; i >= 0; i--) {
    const c = statuses[i]!;
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, new Date(finished).getTime());
    const terminated = c.state?.terminated;
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (terminated?.reason) reason = terminated.reason;
    else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
    else if (c.ready && c.state?.running) {
      hasRunning = true;
      ready++;
    }
  }
  if (reason === 'Completed' && hasRunning) reason = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  const phase = pod.status?.phase;
  if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  const restartText = lastRestart ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  const gates = pod.spec?.readinessGates ?? [];
  const gatesTrue = gates.filter((g) => pod.status?.conditions?.some((c) => c.type === g.conditionType && c.status === 'True')).length;
  return [
    pod.metadata?.name ?? '',
    `${ready}/${pod.spec?.containers?.length ?? 0}`,
    reason,
    restartText,
    since(pod.metadata?.creationTimestamp, now),
    pod.status?.podIP || '<none>',
    pod.spec?.nodeName || '<none>',
    pod.status?.nominatedNodeName || '<none>',
    gates.length ? `${gatesTrue}/${gates.length}` : '<none>',
  ];
}

const ACCESS_MODE_ABBREVIATIONS: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];

function claimCells(pvc: V1PersistentVolumeClaim, now: number): string[] {
  const phase = pvc.metadata?.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
  const bound = !!pvc.spec?.volumeName;
  const modes = pvc.status?.accessModes ?? [];
  const storageClass = pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? pvc.spec?.storageClassName ?? '';
  return [
    pvc.metadata?.name ?? '',
    phase,
    pvc.spec?.volumeName ?? '',
    bound ? String(pvc.status?.capacity?.storage ?? '') : '',
    bound ? ACCESS_MODE_ABBREVIATIONS.filter(([mode]) => modes.includes(mode)).map(([, short]) => short).join(',') : '',
    storageClass,
    pvc.spec?.volumeAttributesClassName ?? '<unset>',
    since(pvc.metadata?.creationTimestamp, now),
    pvc.spec?.volumeMode ?? '<unset>',
  ];
}

function since(timestamp: Date | string | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  return humanDuration(now - new Date(timestamp).getTime());
}

/** apimachinery's duration.HumanDuration, which kubectl's AGE column shows. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365;
    return days === 0 ? `${Math.trunc(hours / 24 / 365)}y` : `${Math.trunc(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}
