import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execCollect } from '../podHelpers';
import { eventually, requireKubectl, SandboxFixture, startSandbox } from '../sandboxFixture';

const NS = 'userlands';
const RUNC_NOT_FOUND = 'unable to start container process: exec: "sh": executable file not found in $PATH: unknown';

describe('sandbox images: each image family brings its own userland, and images without a shell cannot run sh', function () {
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

  const create = async (image: string, command?: string[], restartPolicy = 'Never'): Promise<string> => {
    const name = `pod-${++n}`;
    const body: V1Pod = { metadata: { name }, spec: { restartPolicy, containers: [{ name: 'main', image, ...(command ? { command } : {}) }] } };
    await core.createNamespacedPod({ namespace: NS, body });
    return name;
  };
  const running = async (image: string): Promise<string> => {
    const name = await create(image, image.includes('distroless') ? undefined : ['sleep', 'infinity'], 'Always');
    await eventually(`${name} running`, async () => (await core.readNamespacedPod({ name, namespace: NS })).status?.phase === 'Running');
    return name;
  };

  it('a distroless pod whose command is sh fails to start: StartError, exit 128, the runtime message, a Failed event', async () => {
    const name = await create('gcr.io/distroless/static-debian12:nonroot', ['sh', '-c', 'echo hi']);
    const read = async () => (await core.readNamespacedPod({ name, namespace: NS })).status?.containerStatuses?.[0]?.state?.terminated;
    const terminated = await eventually('terminated', read);
    assert.equal(terminated.reason, 'StartError');
    assert.equal(terminated.exitCode, 128);
    const containerd = 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed';
    assert.equal(terminated.message, `${containerd}: ${RUNC_NOT_FOUND}`);
    assert.equal((await core.readNamespacedPod({ name, namespace: NS })).status?.phase, 'Failed');
    const events = (await core.listNamespacedEvent({ namespace: NS })).items.filter((e) => e.involvedObject.name === name && e.reason === 'Failed');
    assert.deepEqual(events.map((e) => e.message), [`Error: ${terminated.message}`]);
  });

  it('with restartPolicy Always the same pod goes into CrashLoopBackOff with the StartError as its last state', async () => {
    const name = await create('gcr.io/distroless/base-debian12', ['sh'], 'Always');
    const status = await eventually('backing off', async () => {
      const s = (await core.readNamespacedPod({ name, namespace: NS })).status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === 'CrashLoopBackOff' ? s : undefined;
    });
    assert.equal(status.lastState?.terminated?.reason, 'StartError');
  });

  it('exec of sh into a running distroless pod: client-node gets the InternalError status, kubectl prints it and exits 1', async function () {
    requireKubectl(this);
    const pod = await running('gcr.io/distroless/static-debian12');
    const r = await execCollect(sb, NS, pod, ['sh', '-c', 'true']);
    assert.equal(r.status.status, 'Failure');
    assert.equal(r.status.reason, 'InternalError');
    assert.equal(r.status.code, 500);
    const kubelet = 'Internal error occurred: error executing command in container: failed to exec in container: failed to start exec';
    const message = r.status.message ?? '';
    assert.ok(message.startsWith(`Internal error occurred: ${kubelet} "`), message);
    assert.match(message, /"[0-9a-f]{64}": OCI runtime exec failed: exec failed: unable to start container process: exec: "sh": executable file not found in \$PATH: unknown$/);
    const k = await sb.kubectl(['exec', '-n', NS, pod, '--', 'sh', '-c', 'true']);
    assert.equal(k.code, 1);
    assert.match(k.stderr, /error: Internal error occurred: .*exec: "sh": executable file not found in \$PATH/);
    const absolute = await execCollect(sb, NS, pod, ['/bin/sh']);
    assert.match(absolute.status.message ?? '', /exec: "\/bin\/sh": stat \/bin\/sh: no such file or directory: unknown$/);
  });

  it('debian runs GNU tar in the C locale: no LANG or LC_* is set, and tar -t quotes non-ASCII names', async () => {
    const pod = await running('debian:12-slim');
    const script = [
      'tar --version | head -n 1',
      'env | grep -E "^(LANG|LC_)" || echo no-locale',
      'cd /tmp && mkdir d && touch "d/résumé" && tar cf x.tar d && tar tf x.tar | tail -n 1',
    ].join('; ');
    const r = await execCollect(sb, NS, pod, ['sh', '-c', script]);
    assert.equal(r.status.status, 'Success', r.stderr);
    const [version, locale, listed] = r.stdout.toString().trim().split('\n');
    assert.match(version!, /^tar \(GNU tar\)/);
    assert.equal(locale, 'no-locale');
    assert.equal(listed, 'd/r\\303\\251sum\\303\\251');
  });

  for (const image of ['alpine:3.20', 'quay.io/prometheus/busybox:latest']) {
    it(`${image} runs BusyBox tar`, async () => {
      const pod = await running(image);
      const r = await execCollect(sb, NS, pod, ['sh', '-c', 'tar --version 2>&1 | head -n 1; readlink -f "$(command -v tar)"']);
      assert.equal(r.status.status, 'Success', r.stderr);
      assert.doesNotMatch(r.stdout.toString(), /GNU tar/);
      assert.match(r.stdout.toString(), /busybox/i);
    });
  }

  it('the sandbox-only sandbox.nkvm.test/no-tar image has a shell but no tar or gzip', async () => {
    const pod = await running('sandbox.nkvm.test/no-tar:1');
    const probe = await execCollect(sb, NS, pod, ['sh', '-c', 'command -v tar || echo no-tar; command -v gzip || echo no-gzip; echo ok']);
    assert.equal(probe.stdout.toString(), 'no-tar\nno-gzip\nok\n');
    const direct = await execCollect(sb, NS, pod, ['tar', 'cf', '-', '.']);
    assert.match(direct.status.message ?? '', /exec: "tar": executable file not found in \$PATH: unknown$/);
  });

  it('UBI minimal has GNU tools and a shell but no tar, as the real image', async () => {
    const pod = await running('registry.access.redhat.com/ubi9/ubi-minimal:9.5');
    const probe = await execCollect(sb, NS, pod, ['sh', '-c', 'command -v tar || echo no-tar; stat --version | head -n 1; echo ok']);
    assert.match(probe.stdout.toString(), /^no-tar\nstat \(GNU coreutils\) [\d.]+\nok\n$/);
  });
});
