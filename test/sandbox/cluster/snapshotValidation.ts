import { KubeObject } from '../api/objectStore';
import { ApiError } from '../api/status';
import { ResourceType } from '../resourceTypes';
import { types } from './types';

interface Cause {
  reason: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported';
  field: string;
  message: string;
}

const required = (field: string): Cause => ({ reason: 'FieldValueRequired', field, message: 'Required value' });
/** How the API server words a failed x-kubernetes-validations rule: the value's type, then the rule's message. */
const rule = (field: string, valueType: 'object' | 'string', message: string): Cause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: "${valueType}": ${message}` });
const deletionPolicies = ['Delete', 'Retain'];

/**
 * The checks the external-snapshotter CRDs' schemas make on create (required fields, enums and the
 * CEL rules of client/config/crd), so a malformed object is refused with the API server's wording.
 */
export function validateSnapshotObject(type: ResourceType, obj: KubeObject): void {
  const causes: Cause[] = [];
  if (type === types.snapshotClasses) {
    if (typeof obj.driver !== 'string' || !obj.driver) causes.push(required('driver'));
    causes.push(...policyCauses('deletionPolicy', obj.deletionPolicy));
  } else if (type === types.snapshots) {
    const spec = obj.spec as { source?: Record<string, unknown>; volumeSnapshotClassName?: unknown } | undefined;
    if (!spec) causes.push(required('spec'));
    else if (!spec.source) causes.push(required('spec.source'));
    else if (has(spec.source, 'persistentVolumeClaimName') === has(spec.source, 'volumeSnapshotContentName')) {
      causes.push(rule('spec.source', 'object', 'exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set'));
    }
    if (spec?.volumeSnapshotClassName === '') {
      causes.push(rule('spec.volumeSnapshotClassName', 'string', 'volumeSnapshotClassName must not be the empty string when set'));
    }
  } else if (type === types.snapshotContents) {
    const spec = obj.spec as Record<string, unknown> | undefined;
    if (!spec) causes.push(required('spec'));
    else {
      causes.push(...policyCauses('spec.deletionPolicy', spec.deletionPolicy));
      if (typeof spec.driver !== 'string' || !spec.driver) causes.push(required('spec.driver'));
      const source = spec.source as Record<string, unknown> | undefined;
      if (!source) causes.push(required('spec.source'));
      else if (has(source, 'volumeHandle') === has(source, 'snapshotHandle')) {
        causes.push(rule('spec.source', 'object', 'exactly one of volumeHandle and snapshotHandle must be set'));
      }
      const ref = spec.volumeSnapshotRef as Record<string, unknown> | undefined;
      if (!ref) causes.push(required('spec.volumeSnapshotRef'));
      else if (!has(ref, 'name') || !has(ref, 'namespace')) {
        causes.push(rule('spec.volumeSnapshotRef', 'object', 'both spec.volumeSnapshotRef.name and spec.volumeSnapshotRef.namespace must be set'));
      }
    }
  }
  if (causes.length) throw invalid(type, obj.metadata.name ?? '', causes);
}

/** The CRDs' transition rules: a snapshot's source and a content's handles never change once set. */
export function validateSnapshotUpdate(type: ResourceType, current: KubeObject, next: KubeObject): void {
  validateSnapshotObject(type, next);
  const causes: Cause[] = [];
  const immutable = (path: string, before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined, field: string): void => {
    if (!before || !has(before, field)) return;
    if (!after || !has(after, field)) causes.push(rule(path, 'object', `${field} is required once set`));
    else if (after[field] !== before[field]) causes.push(rule(`${path}.${field}`, 'string', `${field} is immutable`));
  };
  const sourceOf = (o: KubeObject): Record<string, unknown> | undefined => (o.spec as { source?: Record<string, unknown> } | undefined)?.source;
  if (type === types.snapshots) {
    for (const field of ['persistentVolumeClaimName', 'volumeSnapshotContentName']) immutable('spec.source', sourceOf(current), sourceOf(next), field);
  } else if (type === types.snapshotContents) {
    for (const field of ['volumeHandle', 'snapshotHandle']) immutable('spec.source', sourceOf(current), sourceOf(next), field);
  }
  if (causes.length) throw invalid(type, current.metadata.name ?? '', causes);
}

function policyCauses(field: string, value: unknown): Cause[] {
  if (value === undefined || value === null || value === '') return [required(field)];
  if (typeof value !== 'string' || !deletionPolicies.includes(value)) {
    return [{ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${JSON.stringify(value)}: supported values: "Delete", "Retain"` }];
  }
  return [];
}

function has(obj: Record<string, unknown>, key: string): boolean {
  return obj[key] !== undefined && obj[key] !== null;
}

/** errors.NewInvalid for a custom resource: the kind is qualified by its group, several causes are bracketed. */
function invalid(type: ResourceType, name: string, causes: Cause[]): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`);
  const message = `${type.kind}.${type.group} "${name}" is invalid: ${text.length > 1 ? `[${text.join(', ')}]` : text[0]}`;
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Invalid',
    details: { name, group: type.group, kind: type.kind, causes },
    code: 422,
  });
}
