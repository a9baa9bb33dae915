import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listNamespaces } from '../../../src/core/discovery/discoverVolumes';
import { missingPluginMessage, resolveExecPlugins } from '../../../src/core/kube/execPlugins';
import { inClusterKubeConfig, IN_CLUSTER_CONTEXT } from '../../../src/core/kube/inClusterConfig';
import { KubeconfigTextError, parseKubeconfigText } from '../../../src/core/kube/kubeconfigText';
import { kubeconfigFiles, loadKubeconfigs } from '../../../src/core/kube/kubeconfigSources';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

describe('where credentials come from', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;
  before(async () => (sb = await startSandbox()));
  after(async () => sb?.stop());

  it('uses the pod’s service account (token and CA files) when running in a pod', async () => {
    const prefix = join(sb.dir, 'pod-root');
    const saDir = join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(saDir, { recursive: true });
    writeFileSync(join(saDir, 'token'), sb.cluster.adminToken);
    writeFileSync(join(saDir, 'ca.crt'), sb.cluster.caPem);
    writeFileSync(join(saDir, 'namespace'), 'shop\n');
    const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(sb.cluster.port) };
    const kc = inClusterKubeConfig(env, prefix)!;
    assert.equal(kc.getCurrentContext(), IN_CLUSTER_CONTEXT);
    assert.equal(kc.getContextObject(IN_CLUSTER_CONTEXT)?.namespace, 'shop');
    const listing = await listNamespaces(kc, { maxNamespaceScan: 100, timeoutSeconds: 10 });
    assert.ok(listing.namespaces.includes('media'));
    assert.equal(inClusterKubeConfig({}, prefix), undefined, 'not in a pod without the service environment');
  });

  it('merges several kubeconfig files as kubectl does, first definition wins, files untouched', () => {
    const a = join(sb.dir, 'a.kubeconfig');
    const b = join(sb.dir, 'b.kubeconfig');
    writeFileSync(a, sb.cluster.kubeconfig({ context: 'one' }));
    writeFileSync(b, sb.cluster.kubeconfig({ context: 'two' }).replace('current-context: two', 'current-context: two'));
    const files = kubeconfigFiles([], { KUBECONFIG: `${a}:${b}:${join(sb.dir, 'missing')}` }, '/home/x', '/');
    assert.deepEqual(files, [a, b, join(sb.dir, 'missing')]);
    const before = [readFileSync(a, 'utf8'), readFileSync(b, 'utf8')];
    const load = loadKubeconfigs(files);
    assert.deepEqual([readFileSync(a, 'utf8'), readFileSync(b, 'utf8')], before);
    assert.deepEqual(load.kubeConfig!.contexts.map((c) => c.name), ['one', 'two']);
    assert.equal(load.kubeConfig!.getCurrentContext(), 'one');
    assert.match(load.problems[0], /missing does not exist/);
    assert.deepEqual(kubeconfigFiles(['~/k.yaml', 'rel.yaml'], { KUBECONFIG: a }, '/home/x', '/ws'), ['/home/x/k.yaml', '/ws/rel.yaml']);
  });

  it('finds an exec credential plugin outside a launcher’s short PATH, and names one that is missing', async () => {
    const pluginDir = join(sb.dir, 'plugins');
    mkdirSync(pluginDir, { recursive: true });
    const plugin = join(pluginDir, 'sandbox-auth-plugin');
    writeFileSync(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${sb.cluster.adminToken}"}}'\n`);
    chmodSync(plugin, 0o755);
    const text = sb.cluster.kubeconfig({ context: 'exec' }).replace(/    token: .*/, '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sandbox-auth-plugin\n      interactiveMode: Never');
    const kc = new KubeConfig();
    kc.loadFromString(text);
    const shortPath = { PATH: '/usr/bin:/bin' };
    const resolved = resolveExecPlugins(kc, shortPath, [pluginDir]);
    assert.deepEqual(resolved.missing, []);
    assert.equal(resolved.kubeConfig.getCurrentUser()?.exec?.command, plugin);
    const namespaces = await resolved.kubeConfig.makeApiClient(CoreV1Api).listNamespace();
    assert.ok(namespaces.items.length > 0);
    const unresolved = resolveExecPlugins(kc, shortPath, []);
    assert.equal(unresolved.missing[0].command, 'sandbox-auth-plugin');
    assert.match(missingPluginMessage(unresolved.missing[0]), /plugin "sandbox-auth-plugin", which was not found on PATH/);
  });

  it('checks a pasted kubeconfig and names each problem', () => {
    assert.equal(parseKubeconfigText(sb.cluster.kubeconfig()).getCurrentContext(), 'sandbox');
    assert.throws(() => parseKubeconfigText('  '), (e: KubeconfigTextError) => e.problems[0] === 'it is empty');
    assert.throws(() => parseKubeconfigText('clusters: [oops'), (e: KubeconfigTextError) => /not a valid kubeconfig/.test(e.problems[0]));
    assert.throws(() => parseKubeconfigText('apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {}}]\n'), (e: KubeconfigTextError) => /server is missing/.test(e.problems[0]));
    assert.throws(
      () => parseKubeconfigText('apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://x"}}]\nusers: []\ncontexts: [{name: x, context: {cluster: nowhere, user: nobody}}]\n'),
      (e: KubeconfigTextError) => e.problems.includes('it has no users') && e.problems.some((p) => p.includes('names cluster "nowhere"')) && e.problems.some((p) => p.includes('names user "nobody"')),
    );
  });
});
