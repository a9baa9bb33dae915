import assert from 'node:assert/strict';
import { resolveBackupHookSettings } from '../../../src/core/config/backupHookSettings';
import { SettingsError } from '../../../src/core/config/settingsError';

describe('hook settings (nkvm.backup.hooks, NKVM_BACKUP_HOOKS)', () => {
  const problem = (fn: () => unknown): { name: string; message: string } => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof SettingsError);
      return { name: e.problems[0]!.name, message: e.message };
    }
    assert.fail('expected a SettingsError');
  };

  it('is empty when unset, and reads each claim’s hooks with Velero’s defaults', () => {
    assert.deepEqual(resolveBackupHookSettings(undefined, {}), {});
    assert.deepEqual(resolveBackupHookSettings({ 'shop/data-orders-db-0': { pod: 'orders-db-0', pre: { command: ['/bin/sync'] }, post: { command: ['/bin/true'], timeout: '1m30s', onError: 'Continue' } } }, {}), {
      'shop/data-orders-db-0': { pod: 'orders-db-0', pre: { command: ['/bin/sync'], onError: 'Fail' }, post: { command: ['/bin/true'], onError: 'Continue', timeoutMs: 90_000 } },
    });
  });

  it('lets the variable, as JSON, win over the setting', () => {
    const settings = resolveBackupHookSettings({ 'shop/a': { pre: { command: ['/bin/false'] } } }, { NKVM_BACKUP_HOOKS: '{"media/scratch": {"post": {"command": ["/bin/true"]}}}' });
    assert.deepEqual(Object.keys(settings), ['media/scratch']);
    assert.deepEqual(problem(() => resolveBackupHookSettings({}, { NKVM_BACKUP_HOOKS: '{media/scratch' })).name, 'NKVM_BACKUP_HOOKS');
  });

  it('names the setting, the claim and every mistake at once', () => {
    const { name, message } = problem(() =>
      resolveBackupHookSettings({ 'shop/data-orders-db-0': { pre: { command: '/bin/sync', timeout: '30', onerror: 'Fail' }, post: { command: ['/bin/true'], onError: 'continue' } }, orders: { pre: { command: ['x'] } } }, {}),
    );
    assert.equal(name, 'nkvm.backup.hooks');
    assert.equal(
      message,
      [
        'nkvm.backup.hooks["shop/data-orders-db-0"].pre has "onerror"; only "command", "container", "onError" and "timeout" are known',
        'nkvm.backup.hooks["shop/data-orders-db-0"].pre.command must be a non-empty array of strings, run without a shell, such as ["/bin/sh", "-c", "sync"]',
        'nkvm.backup.hooks["shop/data-orders-db-0"].pre.timeout must be a positive Go duration such as "30s" or "1m30s", got "30"',
        'nkvm.backup.hooks["shop/data-orders-db-0"].post.onError must be "Fail" or "Continue", got "continue"',
        'nkvm.backup.hooks["orders"]: the key must be "namespace/claim", such as "shop/data-orders-db-0"',
      ].join('; '),
    );
  });
});
