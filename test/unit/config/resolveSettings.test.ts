import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { resolveSettings, type ResolveSettingsInput } from '../../../src/core/config/resolveSettings';
import { SettingsError } from '../../../src/core/config/settingsError';

const workspace = path.resolve('/home/dev/project');

function resolve(overrides: Partial<ResolveSettingsInput> = {}) {
  return resolveSettings({ raw: {}, env: {}, baseDir: workspace, inCluster: false, ...overrides });
}

function problemMessage(input: Partial<ResolveSettingsInput>): string {
  try {
    resolve(input);
  } catch (error) {
    assert.ok(error instanceof SettingsError, `expected SettingsError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected resolveSettings to throw');
}

describe('resolveSettings', () => {
  it('reads retention from nkvm.retention.* and lets NKVM_RETENTION_* override it', () => {
    const { settings, origins } = resolve({
      raw: { retentionKeepLast: 5, retentionMaxAgeDays: 30 },
      env: { NKVM_RETENTION_MAX_AGE_DAYS: '7' },
    });
    assert.equal(settings.retentionKeepLast, 5);
    assert.equal(settings.retentionMaxAgeDays, 7);
    assert.deepEqual(origins.retentionKeepLast, { source: 'setting', name: 'nkvm.retention.keepLast' });
    assert.deepEqual(origins.retentionMaxAgeDays, {
      source: 'env',
      name: 'NKVM_RETENTION_MAX_AGE_DAYS',
      overridesSetting: 'nkvm.retention.maxAgeDays',
    });
    assert.match(problemMessage({ env: { NKVM_RETENTION_KEEP_LAST: '-1' } }), /NKVM_RETENTION_KEEP_LAST must be a whole number from 0 to 10000/);
  });

  it('uses the runbook defaults with workspace-relative paths outside a cluster', () => {
    const { settings, origins } = resolve();
    assert.deepEqual(settings, {
      backupDir: path.join(workspace, 'backups'),
      metadataDbPath: path.join(workspace, 'data', 'backups.db'),
      helperImage: 'alpine:3.20',
      helperPodTimeoutSeconds: 120,
      discoveryTimeoutSeconds: 20,
      maxNamespaceScan: 100,
      retentionKeepLast: 0,
      retentionMaxAgeDays: 0,
    });
    assert.ok(Object.values(origins).every((origin) => origin.source === 'default'));
  });

  it('defaults paths to /var/lib/nkvm in a cluster', () => {
    const { settings } = resolve({ inCluster: true });
    assert.equal(settings.backupDir, path.resolve('/var/lib/nkvm/backups'));
    assert.equal(settings.metadataDbPath, path.resolve('/var/lib/nkvm/data/backups.db'));
  });

  it('lets settings override defaults and environment variables override settings', () => {
    const { settings, origins } = resolve({
      raw: { helperImage: 'busybox:1.36', helperPodTimeoutSeconds: 300, maxNamespaceScan: 50 },
      env: { NKVM_HELPER_POD_TIMEOUT_SECONDS: '600' },
    });
    assert.equal(settings.helperImage, 'busybox:1.36');
    assert.equal(settings.maxNamespaceScan, 50);
    assert.equal(settings.helperPodTimeoutSeconds, 600);
    assert.deepEqual(origins.helperImage, { source: 'setting', name: 'nkvm.helperImage' });
    assert.deepEqual(origins.helperPodTimeoutSeconds, {
      source: 'env',
      name: 'NKVM_HELPER_POD_TIMEOUT_SECONDS',
      overridesSetting: 'nkvm.helperPodTimeoutSeconds',
    });
    assert.deepEqual(origins.discoveryTimeoutSeconds, { source: 'default' });
  });

  it('resolves relative paths against the base folder, absolute ones as given', () => {
    const { settings, origins } = resolve({
      raw: { backupDir: 'archives' },
      env: { NKVM_METADATA_DB_PATH: '/srv/nkvm/history.db' },
      inCluster: true,
    });
    assert.equal(settings.backupDir, path.join(workspace, 'archives'));
    assert.equal(settings.metadataDbPath, path.resolve('/srv/nkvm/history.db'));
    assert.deepEqual(origins.metadataDbPath, { source: 'env', name: 'NKVM_METADATA_DB_PATH' });
  });

  it('expands ~ from HOME instead of creating a folder named "~"', () => {
    const { settings } = resolve({ raw: { backupDir: '~/nkvm-backups' }, env: { HOME: '/home/dev' } });
    assert.equal(settings.backupDir, path.resolve('/home/dev/nkvm-backups'));
  });

  it('treats empty settings and empty variables as unset', () => {
    const { settings, origins } = resolve({ raw: { backupDir: '' }, env: { NKVM_HELPER_IMAGE: '  ' } });
    assert.equal(settings.backupDir, path.join(workspace, 'backups'));
    assert.equal(settings.helperImage, 'alpine:3.20');
    assert.equal(origins.helperImage.source, 'default');
  });

  it('accepts whole numbers given as text by command line flags', () => {
    const { settings } = resolve({ raw: { discoveryTimeoutSeconds: '45' } });
    assert.equal(settings.discoveryTimeoutSeconds, 45);
  });

  it('names the variable and the allowed range for a value that is not a number', () => {
    assert.equal(
      problemMessage({ env: { NKVM_HELPER_POD_TIMEOUT_SECONDS: 'abc' } }),
      'NKVM_HELPER_POD_TIMEOUT_SECONDS must be a whole number from 10 to 3600, got "abc"',
    );
  });

  const outOfRange: readonly [string, string, string][] = [
    ['NKVM_HELPER_POD_TIMEOUT_SECONDS', '9', 'from 10 to 3600'],
    ['NKVM_HELPER_POD_TIMEOUT_SECONDS', '3601', 'from 10 to 3600'],
    ['NKVM_DISCOVERY_TIMEOUT_SECONDS', '0', 'from 1 to 600'],
    ['NKVM_DISCOVERY_TIMEOUT_SECONDS', '12.5', 'from 1 to 600'],
    ['NKVM_MAX_NAMESPACE_SCAN', '10001', 'from 1 to 10000'],
    ['NKVM_MAX_NAMESPACE_SCAN', '-3', 'from 1 to 10000'],
  ];
  for (const [name, value, range] of outOfRange) {
    it(`rejects ${name}=${value} naming the range ${range}`, () => {
      assert.equal(problemMessage({ env: { [name]: value } }), `${name} must be a whole number ${range}, got "${value}"`);
    });
  }

  it('names the setting when the bad value comes from VS Code settings', () => {
    assert.equal(
      problemMessage({ raw: { maxNamespaceScan: 0 } }),
      'nkvm.maxNamespaceScan must be a whole number from 1 to 10000, got 0',
    );
  });

  it('rejects an image reference with whitespace', () => {
    assert.match(
      problemMessage({ env: { NKVM_HELPER_IMAGE: 'alpine 3.20' } }),
      /^NKVM_HELPER_IMAGE must be a container image reference without whitespace.*got "alpine 3.20"$/,
    );
  });

  it('reports every bad value at once, with the command line flag names when given', () => {
    try {
      resolve({
        raw: { helperPodTimeoutSeconds: '5', discoveryTimeoutSeconds: 'soon' },
        rawName: (key) => `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`,
      });
      assert.fail('expected a SettingsError');
    } catch (error) {
      assert.ok(error instanceof SettingsError);
      assert.deepEqual(
        error.problems.map((problem) => problem.name),
        ['--helper-pod-timeout-seconds', '--discovery-timeout-seconds'],
      );
    }
  });

  it('refuses a relative base folder rather than resolving it against the cwd', () => {
    assert.throws(() => resolve({ baseDir: 'project' }), /baseDir must be an absolute path/);
  });
});
