import assert from 'node:assert/strict';
import { configuredHelperUser, helperRunsAsRoot, resolveHelperSettings } from '../../../src/core/config/helperSettings';
import { SettingsError } from '../../../src/core/config/settingsError';

describe('helper pod settings (nkvm.helper.*, NKVM_HELPER_*)', () => {
  const problems = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof SettingsError);
      return e.problems.map((p) => p.message);
    }
    assert.fail('expected a SettingsError');
  };

  it('defaults to nothing extra and no root namespace', () => {
    assert.deepEqual(resolveHelperSettings({}, {}), { imagePullSecrets: [], resources: {}, tolerations: [], nodeSelector: {}, runAsRoot: [], runAsUser: {}, leaseSeconds: 120, deadlineSeconds: 86400 });
  });

  it('takes the lease and the deadline from the settings, the variables winning, and refuses a lease too short to renew', () => {
    const settings = resolveHelperSettings({ leaseSeconds: 300, deadlineSeconds: 7200 }, { NKVM_HELPER_LEASE_SECONDS: '8' });
    assert.deepEqual([settings.leaseSeconds, settings.deadlineSeconds], [8, 7200]);
    const messages = problems(() => resolveHelperSettings({ leaseSeconds: 2 }, { NKVM_HELPER_DEADLINE_SECONDS: '6h' }));
    assert.deepEqual(messages, [
      'nkvm.helper.leaseSeconds must be a whole number of seconds from 5 to 3600, got 2',
      'NKVM_HELPER_DEADLINE_SECONDS must be a whole number of seconds from 600 to 2592000, got "6h"',
    ]);
  });

  it('reads the settings and lets the variables override them, in their text forms', () => {
    const settings = resolveHelperSettings(
      { imagePullSecrets: ['from-setting'], resources: { limits: { memory: '1Gi' } }, nodeSelector: { disk: 'hdd' }, runAsRoot: ['legacy'] },
      {
        NKVM_HELPER_IMAGE_PULL_SECRETS: 'regcred, mirror-creds',
        NKVM_HELPER_RESOURCES: 'requests.cpu=250m,limits.memory=512Mi',
        NKVM_HELPER_TOLERATIONS: '[{"key":"backup","operator":"Exists","effect":"NoSchedule"}]',
        NKVM_HELPER_NODE_SELECTOR: 'kubernetes.io/os=linux,disk=ssd',
      },
    );
    assert.deepEqual(settings.imagePullSecrets, ['regcred', 'mirror-creds']);
    assert.deepEqual(settings.resources, { requests: { cpu: '250m' }, limits: { memory: '512Mi' } });
    assert.deepEqual(settings.tolerations, [{ key: 'backup', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.deepEqual(settings.nodeSelector, { 'kubernetes.io/os': 'linux', disk: 'ssd' });
    assert.deepEqual(settings.runAsRoot, ['legacy']);
  });

  it('names every bad value at once, with what was expected', () => {
    const messages = problems(() =>
      resolveHelperSettings(
        { imagePullSecrets: ['Bad_Name'], tolerations: [{ key: 'x', operator: 'Sometimes' }], nodeSelector: { 'a b': 'c' } },
        { NKVM_HELPER_RESOURCES: 'requests.memory=1Gi,limits.memory=512Mi', NKVM_HELPER_RUN_AS_ROOT: 'Prod!' },
      ),
    );
    assert.equal(messages.length, 5);
    assert.match(messages[0], /^nkvm\.helper\.imagePullSecrets must be a list of Secret names .*got \["Bad_Name"\]$/);
    assert.match(messages[1], /^NKVM_HELPER_RESOURCES must be .*each request at most its limit, got "requests\.memory=1Gi,limits\.memory=512Mi"$/);
    assert.match(messages[2], /^nkvm\.helper\.tolerations must be a list of tolerations/);
    assert.match(messages[3], /^nkvm\.helper\.nodeSelector must be node labels/);
    assert.match(messages[4], /^NKVM_HELPER_RUN_AS_ROOT must be comma-separated namespace names/);
    assert.match(problems(() => resolveHelperSettings({}, { NKVM_HELPER_TOLERATIONS: '{not json' }))[0], /JSON array of tolerations/);
    assert.match(problems(() => resolveHelperSettings({ resources: { requests: { cpu: 'lots' } } }, {}))[0], /nkvm\.helper\.resources must be/);
  });

  it('runs as root where listed, everywhere with *, and the per-backup choice wins', () => {
    assert.equal(helperRunsAsRoot({ runAsRoot: ['legacy'] }, 'legacy'), true);
    assert.equal(helperRunsAsRoot({ runAsRoot: ['legacy'] }, 'shop'), false);
    assert.equal(helperRunsAsRoot({ runAsRoot: ['*'] }, 'shop'), true);
    assert.equal(helperRunsAsRoot({ runAsRoot: ['*'] }, 'shop', false), false);
    assert.equal(helperRunsAsRoot({ runAsRoot: [] }, 'shop', true), true);
  });

  it('runs as a configured non-root user per claim, else per namespace; the variable wins; root and junk are refused', () => {
    const settings = resolveHelperSettings({ runAsUser: { 'shop/data-orders-db-0': '999:998', shop: '1000' } }, {});
    assert.deepEqual(configuredHelperUser(settings, 'shop', 'data-orders-db-0'), { uid: 999, gid: 998 });
    assert.deepEqual(configuredHelperUser(settings, 'shop', 'cache'), { uid: 1000 });
    assert.equal(configuredHelperUser(settings, 'media', 'archive-2019'), undefined);
    const fromEnv = resolveHelperSettings({ runAsUser: { shop: '1000' } }, { NKVM_HELPER_RUN_AS_USER: 'media/archive-2019=70:70, team-a=1001' });
    assert.deepEqual(fromEnv.runAsUser, { 'media/archive-2019': { uid: 70, gid: 70 }, 'team-a': { uid: 1001 } });
    for (const bad of [{ shop: '0' }, { shop: 'postgres' }, { 'Shop/x': '5' }, { 'a/b/c': '5' }, { shop: '5:0' }]) {
      assert.match(problems(() => resolveHelperSettings({ runAsUser: bad }, {}))[0], /^nkvm\.helper\.runAsUser must be non-root users per claim or namespace/, JSON.stringify(bad));
    }
    assert.match(problems(() => resolveHelperSettings({}, { NKVM_HELPER_RUN_AS_USER: 'shop' }))[0], /^NKVM_HELPER_RUN_AS_USER must be/);
  });
});
