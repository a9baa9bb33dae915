import { KubeObject } from './objectStore';

type Cell = string | number | boolean | null;

interface PrinterColumn {
  name: string;
  type: 'string' | 'boolean' | 'integer' | 'date';
  jsonPath: string;
  description: string;
}

const readyToUse: PrinterColumn = { name: 'ReadyToUse', type: 'boolean', jsonPath: '.status.readyToUse', description: 'Indicates if the snapshot is ready to be used to restore a volume.' };
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: '' };

/** The additionalPrinterColumns of the external-snapshotter CRDs (v1), in their order. */
const crdColumns: Record<string, PrinterColumn[]> = {
  volumesnapshots: [
    readyToUse,
    { name: 'SourcePVC', type: 'string', jsonPath: '.spec.source.persistentVolumeClaimName', description: 'If a new snapshot needs to be created, this contains the name of the source PVC from which this snapshot was (or will be) created.' },
    { name: 'SourceSnapshotContent', type: 'string', jsonPath: '.spec.source.volumeSnapshotContentName', description: 'If a snapshot already exists, this contains the name of the existing VolumeSnapshotContent object representing the existing snapshot.' },
    { name: 'RestoreSize', type: 'string', jsonPath: '.status.restoreSize', description: 'Represents the minimum size of volume required to rehydrate from this snapshot.' },
    { name: 'SnapshotClass', type: 'string', jsonPath: '.spec.volumeSnapshotClassName', description: 'The name of the VolumeSnapshotClass requested by the VolumeSnapshot.' },
    { name: 'SnapshotContent', type: 'string', jsonPath: '.status.boundVolumeSnapshotContentName', description: 'Name of the VolumeSnapshotContent object to which the VolumeSnapshot object intends to bind to.' },
    { name: 'CreationTime', type: 'date', jsonPath: '.status.creationTime', description: 'Timestamp when the point-in-time snapshot was taken by the underlying storage system.' },
    age,
  ],
  volumesnapshotcontents: [
    readyToUse,
    { name: 'RestoreSize', type: 'integer', jsonPath: '.status.restoreSize', description: 'Represents the complete size of the snapshot in bytes' },
    { name: 'DeletionPolicy', type: 'string', jsonPath: '.spec.deletionPolicy', description: 'Determines whether this VolumeSnapshotContent and its physical snapshot on the underlying storage system should be deleted when its bound VolumeSnapshot is deleted.' },
    { name: 'Driver', type: 'string', jsonPath: '.spec.driver', description: 'Name of the CSI driver used to create the physical snapshot on the underlying storage system.' },
    { name: 'VolumeSnapshotClass', type: 'string', jsonPath: '.spec.volumeSnapshotClassName', description: 'Name of the VolumeSnapshotClass to which this snapshot belongs.' },
    { name: 'VolumeSnapshot', type: 'string', jsonPath: '.spec.volumeSnapshotRef.name', description: 'Name of the VolumeSnapshot object to which this VolumeSnapshotContent object is bound.' },
    { name: 'VolumeSnapshotNamespace', type: 'string', jsonPath: '.spec.volumeSnapshotRef.namespace', description: 'Namespace of the VolumeSnapshot object to which this VolumeSnapshotContent object is bound.' },
    age,
  ],
  volumesnapshotclasses: [
    { name: 'Driver', type: 'string', jsonPath: '.driver', description: '' },
    { name: 'DeletionPolicy', type: 'string', jsonPath: '.deletionPolicy', description: 'Determines whether a VolumeSnapshotContent created through the VolumeSnapshotClass should be deleted when its bound VolumeSnapshot is deleted.' },
    age,
  ],
};

export interface CrdPrinter {
  columns: { name: string; type: string; format: string; description: string; priority: number }[];
  cells(obj: KubeObject, now: number, humanDuration: (ms: number) => string): Cell[];
}

/**
 * Tables as the apiextensions server builds them from additionalPrinterColumns: a Name column, then each
 * column's value with its JSON type, dates as ages, and null where the path finds nothing.
 */
export function snapshotPrinters(nameColumn: CrdPrinter['columns'][number]): Record<string, CrdPrinter> {
  const printers: Record<string, CrdPrinter> = {};
  for (const [plural, columns] of Object.entries(crdColumns)) {
    printers[plural] = {
      columns: [nameColumn, ...columns.map((c) => ({ name: c.name, type: c.type, format: '', description: c.description, priority: 0 }))],
      cells: (obj, now, humanDuration) => [obj.metadata.name ?? '', ...columns.map((c) => cell(c, lookup(obj, c.jsonPath), now, humanDuration))],
    };
  }
  return printers;
}

function lookup(obj: KubeObject, jsonPath: string): unknown {
  let value: unknown = obj;
  for (const key of jsonPath.slice(1).split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

function cell(column: PrinterColumn, value: unknown, now: number, humanDuration: (ms: number) => string): Cell {
  if (value === undefined || value === null) return null;
  switch (column.type) {
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'date': {
      const time = typeof value === 'string' ? Date.parse(value) : NaN;
      return Number.isNaN(time) ? '<invalid>' : humanDuration(now - time);
    }
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}
