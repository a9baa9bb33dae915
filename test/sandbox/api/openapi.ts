import { createHash } from 'node:crypto';
import { apiVersionOf, groupVersions, resourceTypes } from '../resourceTypes';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/**
 * OpenAPI v3 documents just rich enough for kubectl: each POST and PATCH names its kind and documents
 * `fieldValidation`, so kubectl leaves validation to the server instead of needing full schemas.
 */
export function openApiDocument(group: string, version: string): object | undefined {
  const types = resourceTypes.filter((t) => t.group === group && t.version === version);
  if (!types.length) return undefined;
  const paths: Record<string, object> = {};
  const schemas: Record<string, object> = {};
  const queryParams = ['fieldValidation', 'fieldManager', 'dryRun'].map((name) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } }));
  for (const t of types) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const base = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    const schemaName = `io.k8s.sandbox.${t.group || 'core'}.${t.version}.${t.kind}`;
    const body = { content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName}` } } } };
    if (t.verbs.includes('create')) {
      paths[base] = { post: { operationId: `create${t.kind}`, parameters: queryParams, requestBody: body, responses: { '201': body }, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk } };
    }
    if (t.verbs.includes('patch')) {
      paths[`${base}/{name}`] = { patch: { operationId: `patch${t.kind}`, parameters: queryParams, responses: { '200': body }, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk } };
    }
    schemas[schemaName] = { type: 'object', 'x-kubernetes-group-version-kind': [gvk], properties: { apiVersion: { type: 'string' }, kind: { type: 'string' } }, description: `${t.kind} (${apiVersionOf(t)})` };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.4' }, paths, components: { schemas } };
}

export function openApiRoot(): object {
  const paths: Record<string, object> = {};
  for (const { group, version } of groupVersions()) {
    const hash = createHash('sha512').update(JSON.stringify(openApiDocument(group, version))).digest('hex').slice(0, 32).toUpperCase();
    paths[gvPath(group, version)] = { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=${hash}` };
  }
  return { paths };
}
