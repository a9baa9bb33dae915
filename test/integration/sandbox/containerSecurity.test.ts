import { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execCollect } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

const NS = 'security';
/** CapEff of a root process with containerd's default capabilities (the well-known Docker default set). */
const RUNTIME_DEFAULT_CAP_EFF = '00000000a80425fb';

describe('sandbox containers: read-only root, capabilities and memory limits as the runtime enforces them', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let volume: string;
  let n = 0;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } } });
    volume = await eventually('the claim bound', () => {
      try {
        return sb.cluster.volumePath(NS, 'data');
      } catch {
        return undefined;
      }
    });
    // Owned by another user and readable by nobody: only DAC_OVERRIDE or DAC_READ_SEARCH gets through.
    writeFileSync(join(volume, 'sealed'), 'secret\n');
    chownSync(join(volume, 'sealed'), 1234, 1234);
    chmodSync(join(volume, 'sealed'), 0o000);
  });
  after(async () => sb?.stop());

  const create = async (container: Partial<V1Container>, spec: Partial<V1Pod['spec']> = {}): Promise<string> => {
    const name = `pod-${++n}`;
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name },
        spec: {
          containers: [{ name: 'main', image: 'alpine:3.20', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'data', mountPath: '/data' }], ...container }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
          ...spec,
        },
      },
    });
    return name;
  };
  const read = (name: string) => core.readNamespacedPod({ name, namespace: NS });
  const phaseIs = (name: string, phase: string) => eventually(`${name} ${phase}`, async () => (await read(name)).status?.phase === phase, 10_000);
  const sh = (pod: string, script: string) => execCollect(sb, NS, pod, ['sh', '-c', script]);

  it('refuses writes outside the volumes with EROFS under readOnlyRootFilesystem, in exec and in the main process', async () => {
    const name = await create({ securityContext: { readOnlyRootFilesystem: true } });
    await phaseIs(name, 'Running');
    const rootWrite = await sh(name, 'touch /x');
    assert.equal(rootWrite.status.status, 'Failure');
    assert.match(rootWrite.stderr, /Read-only file system/);
    const tmpWrite = await sh(name, 'touch /tmp/x');
    assert.match(tmpWrite.stderr, /Read-only file system/, 'without an emptyDir, /tmp is part of the read-only root');
    const volumeWrite = await sh(name, 'echo ok > /data/written-by-exec && cat /data/written-by-exec');
    assert.equal(volumeWrite.stdout.toString(), 'ok\n');

    const main = await create({ command: ['sh', '-c', 'touch /x'], securityContext: { readOnlyRootFilesystem: true } }, { restartPolicy: 'Never' });
    await phaseIs(main, 'Failed');
    assert.equal((await read(main)).status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 1);
  });

  it("gives a container without a securityContext the runtime's default capabilities, which let root read any file", async () => {
    const name = await create({});
    await phaseIs(name, 'Running');
    const caps = await sh(name, "grep -E '^Cap(Eff|Bnd):' /proc/self/status");
    assert.match(caps.stdout.toString(), new RegExp(`CapEff:\\s+${RUNTIME_DEFAULT_CAP_EFF}`));
    assert.match(caps.stdout.toString(), new RegExp(`CapBnd:\\s+${RUNTIME_DEFAULT_CAP_EFF}`));
    const sealed = await sh(name, 'cat /data/sealed');
    assert.equal(sealed.stdout.toString(), 'secret\n', sealed.stderr);
  });

  it('drops capabilities: root without DAC_OVERRIDE cannot read a mode 000 file of another user, with it added back it can', async () => {
    const dropped = await create({ securityContext: { capabilities: { drop: ['ALL'] } } });
    const readsAll = await create({ securityContext: { capabilities: { drop: ['ALL'], add: ['DAC_OVERRIDE'] } } });
    await phaseIs(dropped, 'Running');
    await phaseIs(readsAll, 'Running');
    const refused = await sh(dropped, 'cat /data/sealed');
    assert.equal(refused.status.status, 'Failure');
    assert.match(refused.stderr, /Permission denied/);
    assert.match((await sh(dropped, 'grep CapEff /proc/self/status')).stdout.toString(), /CapEff:\s+0{16}/);
    const allowed = await sh(readsAll, 'cat /data/sealed');
    assert.equal(allowed.stdout.toString(), 'secret\n', allowed.stderr);
  });

  it('gives a non-root user no capabilities, even added ones', async () => {
    const name = await create({ securityContext: { runAsUser: 1000, capabilities: { add: ['DAC_OVERRIDE'] } } });
    await phaseIs(name, 'Running');
    const refused = await sh(name, 'cat /data/sealed');
    assert.match(refused.stderr, /Permission denied/);
    assert.match((await sh(name, 'grep CapEff /proc/self/status')).stdout.toString(), /CapEff:\s+0{16}/);
  });

  it("adds the pod's supplementalGroups and fsGroup to the groups of every process, root or not", async () => {
    const user = await create({}, { securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 5000 } });
    const root = await create({}, { securityContext: { supplementalGroups: [4000] } });
    await phaseIs(user, 'Running');
    await phaseIs(root, 'Running');
    assert.equal((await sh(user, 'id -u; id -G')).stdout.toString(), '1000\n3000 4000 5000\n');
    assert.equal((await sh(root, 'id -u; id -G')).stdout.toString(), '0\n0 4000\n');
  });

  it('applies the same rules to the main process: a root command without capabilities cannot read the sealed file', async () => {
    const name = await create(
      { command: ['sh', '-c', 'cat /data/sealed > /dev/null 2>/data/main-refused; echo $? >> /data/main-refused'], securityContext: { capabilities: { drop: ['ALL'] } } },
      { restartPolicy: 'Never' },
    );
    await phaseIs(name, 'Succeeded');
    assert.match(readFileSync(join(volume, 'main-refused'), 'utf8'), /Permission denied\n1\n$/);
  });

  it('kills a main process that outgrows resources.limits.memory: the container is OOMKilled with exit code 137', async function () {
    if (sb.cluster.cpuLimits.memoryEnforcement.kind === 'none') this.skip();
    const name = await create(
      { command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=256M', 'count=1'], resources: { limits: { memory: '32Mi' } } },
      { restartPolicy: 'Never' },
    );
    await phaseIs(name, 'Failed');
    const terminated = (await read(name)).status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.reason, 'OOMKilled');
    assert.equal(terminated?.exitCode, 137);
  });

  it('kills an exec\'d command that outgrows the container memory limit with exit code 137, and lets a small one run', async function () {
    if (sb.cluster.cpuLimits.memoryEnforcement.kind === 'none') this.skip();
    const name = await create({ resources: { limits: { memory: '32Mi' } } });
    await phaseIs(name, 'Running');
    const small = await sh(name, 'dd if=/dev/zero of=/dev/null bs=1M count=4 2>/dev/null && echo fits');
    assert.equal(small.stdout.toString(), 'fits\n', small.stderr);
    const big = await execCollect(sb, NS, name, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=256M', 'count=1']);
    assert.equal(big.status.status, 'Failure');
    assert.equal(big.status.details?.causes?.[0]?.message, '137');
  });
});
