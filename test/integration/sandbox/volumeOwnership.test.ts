import { CoreV1Api, V1PersistentVolume, V1Pod, V1PodSecurityContext } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execCollect } from '../podHelpers';
import { eventually, requireKubectl, SandboxFixture, startSandbox } from '../sandboxFixture';

const NS = 'owners';
const NODE = 'node-a';

describe('sandbox volumes: new claims look like freshly formatted disks, and the kubelet applies fsGroup', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let n = 0;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  after(async () => sb?.stop());

  const claim = async (storageClassName: string, accessModes: string[]): Promise<string> => {
    const name = `vol-${++n}`;
    const spec = { accessModes, storageClassName, resources: { requests: { storage: '1Gi' } } };
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name }, spec } });
    await eventually(`${name} bound`, async () => (await core.readNamespacedPersistentVolumeClaim({ name, namespace: NS })).status?.phase === 'Bound');
    return name;
  };
  /** A running pod on one node (so ReadWriteOnce claims can be shared between the steps) mounting the claim at /data. */
  const runPod = async (claimName: string, securityContext: V1PodSecurityContext = {}, runAsUser?: number): Promise<string> => {
    const name = `pod-${++n}`;
    const body: V1Pod = {
      metadata: { name },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': NODE },
        securityContext,
        containers: [
          {
            name: 'main',
            image: 'alpine:3.20',
            command: ['sleep', 'infinity'],
            securityContext: runAsUser === undefined ? {} : { runAsUser },
            volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'scratch', mountPath: '/scratch' }],
          },
        ],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }, { name: 'scratch', emptyDir: {} }],
      },
    };
    await core.createNamespacedPod({ namespace: NS, body });
    await eventually(`${name} running`, async () => (await core.readNamespacedPod({ name, namespace: NS })).status?.phase === 'Running');
    return name;
  };
  const sh = async (pod: string, script: string): Promise<string> => {
    const r = await execCollect(sb, NS, pod, ['sh', '-c', script]);
    assert.equal(r.status.status, 'Success', `${script}: ${r.stderr} ${JSON.stringify(r.status)}`);
    return r.stdout.toString().trim();
  };
  const pvOf = async (claimName: string): Promise<V1PersistentVolume> => {
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace: NS });
    return core.readPersistentVolume({ name: pvc.spec!.volumeName! });
  };

  it('a new ReadWriteOnce claim is a CSI volume formatted ext4: root root:root 0755 with lost+found (root, 0700), closed to non-root users', async function () {
    requireKubectl(this);
    const vol = await claim('standard', ['ReadWriteOnce']);
    const pv = await pvOf(vol);
    assert.equal(pv.spec?.csi?.driver, 'disk.csi.sandbox.nkvm.dev');
    assert.equal(pv.spec?.csi?.fsType, 'ext4');
    assert.ok(pv.spec?.csi?.volumeHandle);
    assert.equal(pv.spec?.hostPath, undefined);
    const pod = await runPod(vol, {}, 1000);
    const r = await sb.kubectl(['exec', '-n', NS, pod, '--', 'sh', '-c', 'stat -c "%a %u:%g %n" /data /data/lost+found; ls -a /data; touch /data/x']);
    assert.notEqual(r.code, 0, 'a non-root user cannot write to the root of a fresh volume');
    assert.equal(r.stdout.toString(), '755 0:0 /data\n700 0:0 /data/lost+found\n.\n..\nlost+found\n');
    assert.match(r.stderr, /Permission denied/);
  });

  it('fsGroup (Always): every entry gets the group, group rw, folders x and setgid, symlinks only the group; a non-root user writes there', async () => {
    const vol = await claim('standard', ['ReadWriteOnce']);
    const seed = await runPod(vol);
    await sh(seed, 'mkdir /data/dir && echo secret > /data/dir/f && chmod 600 /data/dir/f && chmod 4700 /data/dir && ln -s dir/f /data/link');
    await sh(seed, 'touch /data/caf$(printf "\\351") && chmod 640 /data/caf*'); // a Latin-1 name, not UTF-8
    const pod = await runPod(vol, { fsGroup: 2000 }, 1000);
    const listing = await sh(pod, 'stat -c "%a %u:%g %n" /data /data/lost+found /data/dir /data/dir/f; stat -c "%g %n" /data/link; id -G');
    assert.equal(listing, ['2775 0:2000 /data', '2770 0:2000 /data/lost+found', '6770 0:2000 /data/dir', '660 0:2000 /data/dir/f', '2000 /data/link', '0 2000'].join('\n'));
    assert.equal(await sh(pod, 'stat -c "%a %g" /data/caf*'), '660 2000', 'names that are not UTF-8 are re-owned too');
    assert.equal(await sh(pod, 'echo mine > /data/new && cat /data/dir/f && stat -c "%u:%g" /data/new'), 'secret\n1000:2000', 'new files inherit the group through setgid');
    assert.equal(await sh(pod, 'stat -c "%a %g" /scratch'), '2777 2000', 'emptyDir gets fsGroup too');
  });

  it('fsGroupChangePolicy OnRootMismatch walks only when the root lacks the group or its bits; Always walks every time', async () => {
    const vol = await claim('standard', ['ReadWriteOnce']);
    const root = await runPod(vol);
    await sh(root, 'echo a > /data/first && chmod 600 /data/first');
    const mismatch = await runPod(vol, { fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch' }, 1000);
    assert.equal(await sh(mismatch, 'stat -c "%a %g" /data/first'), '660 2000', 'root group differed: walked');
    await sh(root, 'echo b > /data/second && chmod 600 /data/second');
    const matching = await runPod(vol, { fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch' }, 1000);
    const untouched = await sh(matching, 'stat -c "%a %g" /data/second; cat /data/second 2>&1 || true');
    assert.equal(untouched, '600 2000\ncat: can\'t open \'/data/second\': Permission denied', 'root matched: not walked (the group comes from setgid)');
    const always = await runPod(vol, { fsGroup: 2000, fsGroupChangePolicy: 'Always' }, 1000);
    assert.equal(await sh(always, 'stat -c "%a %g" /data/second; cat /data/second'), '660 2000\nb');
  });

  it('NFS-like ReadWriteMany volumes (no fsType) are 0777 and left alone by fsGroup', async () => {
    const vol = await claim('shared-nfs', ['ReadWriteMany']);
    const pv = await pvOf(vol);
    assert.equal(pv.spec?.csi, undefined);
    assert.ok(pv.spec?.nfs?.path);
    const pod = await runPod(vol, { fsGroup: 2000 }, 1000);
    assert.equal(await sh(pod, 'ls -a /data | tr "\\n" " "; stat -c "%a %u:%g" /data; touch /data/x && stat -c "%u:%g" /data/x'), '. .. 777 0:0\n1000:0');
  });

  it('a ReadWriteMany claim of a block class is not re-owned either (fsGroupPolicy ReadWriteOnceWithFSType)', async () => {
    const vol = await claim('standard', ['ReadWriteMany']);
    assert.equal((await pvOf(vol)).spec?.csi?.fsType, 'ext4');
    const pod = await runPod(vol, { fsGroup: 2000 }, 1000);
    assert.equal(await sh(pod, 'stat -c "%a %g" /data'), '755 0');
  });

  it('a successful ownership change is silent: no event beyond the usual start', async () => {
    const vol = await claim('standard', ['ReadWriteOnce']);
    const pod = await runPod(vol, { fsGroup: 2000 }, 1000);
    const events = (await core.listNamespacedEvent({ namespace: NS })).items.filter((e) => e.involvedObject.name === pod);
    assert.deepEqual(events.filter((e) => e.type === 'Warning').map((e) => e.reason), []);
  });
});
