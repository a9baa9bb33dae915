import type {
  V1Container,
  V1Deployment,
  V1LabelSelector,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1Service,
} from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const repoRoot = path.resolve(__dirname, '../../..');
export const appDir = path.join(repoRoot, 'deploy/k8s/app');
export const rbacDir = path.join(repoRoot, 'deploy/k8s/rbac');

export const APP_NAMESPACE = 'nerdy-k8s-volume-manager';
export const SERVICE_ACCOUNT = 'nerdy-k8s-volume-manager';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Every document of a YAML file; a syntax error fails with the file's name. */
export function readYamlDocuments(file: string): KubeObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const out: KubeObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${path.relative(repoRoot, file)}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as KubeObject | null;
    if (value) out.push(value);
  }
  return out;
}

export interface Kustomization {
  namespace?: string;
  resources?: string[];
  labels?: { pairs?: Record<string, string>; includeSelectors?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

export function readKustomization(): Kustomization {
  return readYamlDocuments(path.join(appDir, 'kustomization.yaml'))[0] as Kustomization;
}

/** The objects of deploy/k8s/app as written, file by file in the kustomization's order. */
export function appObjects(): KubeObject[] {
  return (readKustomization().resources ?? []).flatMap((file) => readYamlDocuments(path.join(appDir, file)));
}

export function only<T>(objects: KubeObject[], kind: string, name?: string): T {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

export const deploymentOf = (objects: KubeObject[]): V1Deployment => only<V1Deployment>(objects, 'Deployment');
export const serviceOf = (objects: KubeObject[]): V1Service => only<V1Service>(objects, 'Service');
export const networkPolicyOf = (objects: KubeObject[]): V1NetworkPolicy => only<V1NetworkPolicy>(objects, 'NetworkPolicy');
export const claimsOf = (objects: KubeObject[]): V1PersistentVolumeClaim[] =>
  objects.filter((o) => o.kind === 'PersistentVolumeClaim') as V1PersistentVolumeClaim[];

/** The one container of the workbench pod. */
export function workbenchContainer(deployment: V1Deployment): V1Container {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`expected one container, found ${containers.length}`);
  return containers[0];
}

/** A port as a Service or a probe names it (number or port name), as the container's number. */
export function containerPortNumber(container: V1Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Whether a map selector (Service) selects these labels. */
export function mapSelects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/** Whether a LabelSelector (Deployment, NetworkPolicy) selects these labels; matchExpressions are not used here. */
export function labelSelectorSelects(selector: V1LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector?.matchExpressions?.length) throw new Error('matchExpressions are not supported by this check');
  return mapSelects(selector?.matchLabels, labels);
}

/** The YAML files of deploy/k8s/rbac, or a message saying they are missing. */
export function rbacObjects(dir = rbacDir): KubeObject[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
  if (!files.length) {
    throw new Error(
      'deploy/k8s/rbac/*.yaml is missing: the app runs as the ServiceAccount defined there, so the two must be checked together',
    );
  }
  return files.sort().flatMap((f) => readYamlDocuments(path.join(dir, f)));
}

export const kubectlAvailable = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

/** `kubectl kustomize deploy/k8s/app`, parsed. */
export function renderKustomization(): KubeObject[] {
  const result = spawnSync('kubectl', ['kustomize', appDir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${path.relative(repoRoot, appDir)} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout).map((d) => d.toJS() as KubeObject);
}

export interface PackageJson {
  name: string;
  version: string;
  scripts: Record<string, string>;
  contributes: { commands: { command: string }[]; configuration: { properties: Record<string, unknown> } };
}

export function readPackageJson(): PackageJson {
  return JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
}
