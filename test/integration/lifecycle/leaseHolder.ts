// A second process that owns a helper pod and renews its lease until its stdin closes, as a backup
// running in another window or on another machine would. Prints the pod's namespace/name once it runs.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createHelperPod, deleteHelperPod, waitForHelperPod } from '../../../src/core/backup/helperPod';
import { HelperLease } from '../../../src/core/backup/helperLease';
import { createHelperOwner } from '../../../src/core/backup/helperOwner';
import { helperPodSpec } from '../../../src/core/backup/helperPodSpec';

async function main(): Promise<void> {
  const [namespace, pvc, leaseSeconds] = process.argv.slice(2);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const spec = helperPodSpec({ namespace, pvc, runId: 'lease-holder', image: 'alpine:3.20', deadlineSeconds: 3600, owner: createHelperOwner('cli'), leaseSeconds: Number(leaseSeconds) });
  const pod = (await createHelperPod(core, spec)).metadata!.name!;
  const lease = HelperLease.start(kubeConfig, { namespace, pod, spec, onProblem: (m) => process.stderr.write(`lease problem: ${m}\n`) });
  await waitForHelperPod(core, namespace, pod, 30);
  await lease.containerRunning();
  process.stdout.write(`${namespace}/${pod}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
  await lease.stop();
  await deleteHelperPod(core, namespace, pod);
}

void main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
