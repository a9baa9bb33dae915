import { errors } from './status';

/** JSON merge patch (RFC 7386); strategic merge patch is applied the same way, which is right for maps and scalars. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (key.startsWith('$')) continue; // strategic-merge directives such as $patch and $retainKeys
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

/** JSON patch (RFC 6902) for add, remove, replace and test, the operations clients send in practice. */
export function jsonPatch(target: unknown, ops: JsonPatchOp[]): unknown {
  const doc = structuredClone(target);
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw errors.badRequest(`invalid JSON patch path "${op.path}"`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walks an arbitrary JSON document
    let parent: any = doc;
    for (const p of parts) {
      if (parent?.[p] === undefined) throw errors.invalid('Patch', '', '', [{ field: op.path, message: 'path does not exist' }]);
      parent = parent[p];
    }
    switch (op.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
        else parent[last] = op.value;
        break;
      case 'replace':
        parent[last] = op.value;
        break;
      case 'remove':
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
      case 'test':
        if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw errors.invalid('Patch', '', '', [{ field: op.path, message: 'test operation failed' }]);
        break;
      default:
        throw errors.badRequest(`JSON patch operation "${op.op}" is not supported`);
    }
  }
  return doc;
}
