import { errors } from './status';
import { KubeObject } from './objectStore';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'doesnotexist' };

/** Parses a label selector (`a=b,c!=d,e in (f,g),h,!i`) into requirements; throws 400 on bad syntax. */
export function parseLabelSelector(text: string | undefined): Requirement[] {
  if (!text) return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((raw) => {
    const part = raw.trim();
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) return { key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()).filter(Boolean) };
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
    if (m) return { key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] };
    m = /^!([\w./-]+)$/.exec(part);
    if (m) return { key: m[1], op: 'doesnotexist' };
    m = /^([\w./-]+)$/.exec(part);
    if (m) return { key: m[1], op: 'exists' };
    throw errors.badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchesLabels(requirements: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
    }
  });
}

interface FieldRequirement {
  path: string;
  value: string;
  negate: boolean;
}

const supportedFields: Record<string, string[]> = {
  '*': ['metadata.name', 'metadata.namespace'],
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  namespaces: ['status.phase'],
  persistentvolumeclaims: [],
};

/** Parses a field selector; like the real server, only some fields are selectable per resource. */
export function parseFieldSelector(text: string | undefined, plural: string): FieldRequirement[] {
  if (!text) return [];
  return text.split(',').map((raw) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(raw.trim());
    if (!m) throw errors.badRequest(`invalid field selector: '${raw}'`);
    const allowed = [...supportedFields['*'], ...(supportedFields[plural] ?? [])];
    if (!allowed.includes(m[1])) throw errors.badRequest(`field label not supported: ${m[1]}`);
    return { path: m[1], value: m[3], negate: m[2] === '!=' };
  });
}

export function matchesFields(requirements: FieldRequirement[], obj: KubeObject): boolean {
  return requirements.every((r) => {
    const actual = r.path === 'source' ? valueAt(obj, 'source.component') : valueAt(obj, r.path);
    const equal = String(actual ?? '') === r.value;
    return r.negate ? !equal : equal;
  });
}

function valueAt(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
