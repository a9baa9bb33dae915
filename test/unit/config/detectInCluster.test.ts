import * as assert from 'node:assert/strict';
import { SERVICE_ACCOUNT_TOKEN_PATH, detectInCluster } from '../../../src/core/config/detectInCluster';

describe('detectInCluster', () => {
  const podEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const tokenMounted = (file: string) => file === SERVICE_ACCOUNT_TOKEN_PATH;

  it('is true in a pod with the service variables and a mounted token', () => {
    assert.equal(detectInCluster(podEnv, tokenMounted), true);
  });

  it('is false when the token is not mounted (automountServiceAccountToken: false)', () => {
    assert.equal(detectInCluster(podEnv, () => false), false);
  });

  it('is false on a workstation that only exports the host variable', () => {
    assert.equal(detectInCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, tokenMounted), false);
    assert.equal(detectInCluster({}, tokenMounted), false);
  });
});
