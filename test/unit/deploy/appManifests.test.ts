import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { helperPodSpec } from '../../../src/core/backup/helperPodSpec';
import { IN_CLUSTER_PATH_DEFAULTS, SETTING_SPECS } from '../../../src/core/config/nkvmSettings';
import {
  APP_NAMESPACE,
  appDir,
  appObjects,
  claimsOf,
  containerPortNumber,
  deploymentOf,
  labelSelectorSelects,
  mapSelects,
  networkPolicyOf,
  readKustomization,
  readPackageJson,
  serviceOf,
  SERVICE_ACCOUNT,
  workbenchContainer,
} from './deployManifests';

/** The mount whose path holds `file`, deepest first (so /var/lib/nkvm/data beats /var/lib/nkvm). */
function mountHolding(mounts: { name: string; mountPath: string }[], file: string) {
  return mounts
    .filter((m) => file === m.mountPath || file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

describe('deploy/k8s/app manifests', () => {
  const objects = appObjects();
  const deployment = deploymentOf(objects);
  const podSpec = deployment.spec!.template.spec!;
  const podLabels = deployment.spec!.template.metadata!.labels!;
  const container = workbenchContainer(deployment);
  const service = serviceOf(objects);

  it('lists only files that exist, with the namespace, claims, workbench, Service and NetworkPolicy', () => {
    const kustomization = readKustomization();
    for (const file of kustomization.resources ?? []) assert.ok(existsSync(path.join(appDir, file)), `${file} is listed but missing`);
    assert.equal(kustomization.namespace, APP_NAMESPACE);
    assert.deepEqual(kustomization.labels?.[0]?.pairs, { 'app.kubernetes.io/name': 'nerdy-k8s-volume-manager' });
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort(),
      [
        'Deployment/nerdy-k8s-volume-manager',
        `Namespace/${APP_NAMESPACE}`,
        'NetworkPolicy/nerdy-k8s-volume-manager-deny-ingress',
        'PersistentVolumeClaim/nkvm-backups',
        'PersistentVolumeClaim/nkvm-data',
        'Service/nerdy-k8s-volume-manager',
      ],
    );
  });

  it('runs under the ServiceAccount nerdy-k8s-volume-manager with its token mounted', () => {
    assert.equal(podSpec.serviceAccountName, SERVICE_ACCOUNT);
    // The extension authenticates in the pod with this token; without it the tree stays empty.
    assert.equal(podSpec.automountServiceAccountToken, true);
  });

  it('mounts only claims that pvc.yaml defines, one for the archives and one for the history', () => {
    const defined = claimsOf(objects).map((c) => c.metadata!.name!);
    const used = (podSpec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
    assert.deepEqual([...used].sort(), ['nkvm-backups', 'nkvm-data']);
    for (const claim of used) assert.ok(defined.includes(claim), `the Deployment mounts ${claim}, which pvc.yaml does not define`);
    for (const claim of claimsOf(objects)) {
      assert.ok(claim.spec?.resources?.requests?.storage, `${claim.metadata?.name} requests no storage`);
      assert.deepEqual(claim.spec?.accessModes, ['ReadWriteOnce']);
    }
    // Two pods holding the same ReadWriteOnce claims would block each other during a rolling update.
    assert.equal(deployment.spec!.replicas, 1);
    assert.equal(deployment.spec!.strategy?.type, 'Recreate');
  });

  it('points NKVM_BACKUP_DIR and NKVM_METADATA_DB_PATH into those claims, at the extension’s in-cluster defaults', () => {
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    const mounts = container.volumeMounts ?? [];
    const claimOfVolume = (volume: string) => podSpec.volumes?.find((v) => v.name === volume)?.persistentVolumeClaim?.claimName;

    const backupDir = env[SETTING_SPECS.backupDir.envVar];
    const dbPath = env[SETTING_SPECS.metadataDbPath.envVar];
    assert.equal(backupDir, IN_CLUSTER_PATH_DEFAULTS.backupDir);
    assert.equal(dbPath, IN_CLUSTER_PATH_DEFAULTS.metadataDbPath);
    assert.equal(claimOfVolume(mountHolding(mounts, backupDir!)?.name ?? ''), 'nkvm-backups', `${backupDir} is not on the nkvm-backups claim`);
    assert.equal(claimOfVolume(mountHolding(mounts, path.posix.dirname(dbPath!))?.name ?? ''), 'nkvm-data', `${dbPath} is not on the nkvm-data claim`);

    const known = new Set(Object.values(SETTING_SPECS).map((s) => s.envVar));
    for (const name of Object.keys(env).filter((n) => n.startsWith('NKVM_'))) {
      assert.ok(known.has(name as never), `${name} is set but the extension reads no such variable`);
    }
  });

  it('sends the Service and every probe to the port code-server listens on', () => {
    assert.deepEqual(container.ports?.map((p) => p.containerPort), [8080]);
    const listening = /^--bind-addr=0\.0\.0\.0:(\d+)$/.exec(container.args?.find((a) => a.startsWith('--bind-addr=')) ?? '');
    assert.ok(listening, 'code-server must bind 0.0.0.0 so the kubelet probes and port-forward reach it');
    assert.equal(Number(listening[1]), 8080);

    const [servicePort] = service.spec!.ports!;
    assert.equal(servicePort.port, 80);
    assert.equal(containerPortNumber(container, servicePort.targetPort), 8080, 'the Service targetPort is not the container port');
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
      assert.ok(probe?.httpGet, 'every probe asks code-server over HTTP');
      assert.equal(probe.httpGet.path, '/healthz');
      assert.equal(containerPortNumber(container, probe.httpGet.port), 8080, 'a probe checks a port code-server does not listen on');
    }
  });

  it('selects the workbench pod from the Service, the Deployment and the NetworkPolicy', () => {
    assert.ok(mapSelects(service.spec!.selector, podLabels), 'the Service selector does not match the pod template labels');
    assert.ok(labelSelectorSelects(deployment.spec!.selector, podLabels), 'the Deployment selector does not match its own pod template');
    assert.ok(labelSelectorSelects(networkPolicyOf(objects).spec!.podSelector, podLabels), 'the NetworkPolicy does not cover the workbench');
  });

  it('never selects a helper pod, which carries the same app name label', () => {
    // Backing up a claim in this namespace starts a helper here; the Service must not send users to it.
    const helper = helperPodSpec({ namespace: APP_NAMESPACE, pvc: 'nkvm-data', runId: 'r1', image: 'alpine:3.20', deadlineSeconds: 60 });
    const helperLabels = helper.metadata!.labels!;
    assert.equal(helperLabels['app.kubernetes.io/name'], podLabels['app.kubernetes.io/name']);
    assert.ok(!mapSelects(service.spec!.selector, helperLabels), 'the Service would select helper pods');
    assert.ok(!labelSelectorSelects(deployment.spec!.selector, helperLabels), 'the Deployment would adopt helper pods');
  });

  it('meets Pod Security "restricted" with a read-only root and writable emptyDirs for code-server', () => {
    const pod = podSpec.securityContext!;
    const c = container.securityContext!;
    assert.equal(pod.runAsNonRoot, true);
    assert.equal(pod.runAsUser, 1000);
    assert.equal(typeof pod.runAsUser, 'number');
    assert.equal(pod.seccompProfile?.type ?? c.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(c.allowPrivilegeEscalation, false);
    assert.deepEqual(c.capabilities?.drop, ['ALL']);
    assert.equal(c.capabilities?.add, undefined);
    assert.notEqual(c.privileged, true);
    assert.equal(c.readOnlyRootFilesystem, true);
    assert.ok(!podSpec.hostNetwork && !podSpec.hostPID && !podSpec.hostIPC);
    assert.ok((podSpec.volumes ?? []).every((v) => !v.hostPath), 'no hostPath volumes');

    const emptyDirs = new Set((podSpec.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
    const writable = (container.volumeMounts ?? []).filter((m) => emptyDirs.has(m.name)).map((m) => m.mountPath);
    assert.deepEqual(writable.sort(), ['/home/coder', '/tmp']);
    assert.ok(container.resources?.requests?.memory && container.resources.limits?.memory, 'memory requests and limits are set');
    assert.ok(container.resources?.requests?.cpu && container.resources.limits?.cpu, 'cpu requests and limits are set');
  });

  it('keeps --auth=none behind port-forward: ClusterIP only, and no other pod may connect', () => {
    if (!container.args?.includes('--auth=none')) return;
    assert.equal(service.spec!.type ?? 'ClusterIP', 'ClusterIP');
    const policy = networkPolicyOf(objects);
    assert.deepEqual(policy.spec!.policyTypes, ['Ingress']);
    assert.deepEqual(policy.spec!.ingress ?? [], [], 'the NetworkPolicy lets other pods reach an unauthenticated workbench');
  });

  it('runs the image of this version, overridable through the kustomization', () => {
    const { version } = readPackageJson();
    const [image] = readKustomization().images ?? [];
    assert.equal(image.name, 'ghcr.io/nerdy-k8s/nerdy-k8s-volume-manager');
    assert.equal(image.newTag, version);
    assert.equal(container.image, `${image.name}:${version}`);
  });
});
