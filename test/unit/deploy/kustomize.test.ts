import * as assert from 'node:assert/strict';
import {
  APP_NAMESPACE,
  deploymentOf,
  kubectlAvailable,
  labelSelectorSelects,
  mapSelects,
  networkPolicyOf,
  readPackageJson,
  renderKustomization,
  serviceOf,
  workbenchContainer,
} from './deployManifests';

// The README's `kubectl apply -k deploy/k8s/app` must work; kubectl's built-in kustomize needs no cluster.
const inCi = process.env.CI === 'true';

describe('kubectl kustomize deploy/k8s/app', function () {
  this.timeout(30_000);

  if (!kubectlAvailable && !inCi) {
    it.skip('renders (skipped: kubectl is not installed; CI=true makes this a failure)');
    return;
  }

  it('finds kubectl (CI installs it)', () => {
    assert.ok(kubectlAvailable, 'kubectl is not on the PATH; .ci/run expects it');
  });

  it('renders every object into the app namespace with the common name label', () => {
    const rendered = renderKustomization();
    assert.ok(rendered.length >= 6, `only ${rendered.length} objects rendered`);
    for (const o of rendered) {
      const id = `${o.kind}/${o.metadata?.name}`;
      assert.equal(o.metadata?.labels?.['app.kubernetes.io/name'], 'nerdy-k8s-volume-manager', `${id} lacks the name label`);
      if (o.kind === 'Namespace') assert.equal(o.metadata?.name, APP_NAMESPACE);
      else assert.equal(o.metadata?.namespace, APP_NAMESPACE, `${id} is not in ${APP_NAMESPACE}`);
    }
  });

  it('keeps the Service, the Deployment and the NetworkPolicy on the workbench pod after the label transform', () => {
    const rendered = renderKustomization();
    const deployment = deploymentOf(rendered);
    const labels = deployment.spec!.template.metadata!.labels!;
    assert.ok(labelSelectorSelects(deployment.spec!.selector, labels));
    assert.ok(mapSelects(serviceOf(rendered).spec!.selector, labels));
    assert.ok(labelSelectorSelects(networkPolicyOf(rendered).spec!.podSelector, labels));
  });

  it('uses the image from the images entry', () => {
    const image = workbenchContainer(deploymentOf(renderKustomization())).image;
    assert.equal(image, `ghcr.io/nerdy-k8s/nerdy-k8s-volume-manager:${readPackageJson().version}`);
  });
});
