import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from '../../../src/core/hooks/goDuration';
import { annotatedHook } from '../../../src/core/hooks/hookAnnotations';

describe('Velero backup hook annotations', () => {
  it('reads a JSON array command with its container, on-error and timeout', () => {
    const hook = annotatedHook(
      {
        'pre.hook.backup.velero.io/command': '["/bin/sh", "-c", "psql -c CHECKPOINT"]',
        'pre.hook.backup.velero.io/container': 'postgres',
        'pre.hook.backup.velero.io/on-error': 'Continue',
        'pre.hook.backup.velero.io/timeout': '1m30s',
      },
      'pre',
    );
    assert.deepEqual(hook, { prefix: 'pre.hook.backup.velero.io', command: ['/bin/sh', '-c', 'psql -c CHECKPOINT'], container: 'postgres', onError: 'Continue', timeoutMs: 90_000, warnings: [] });
  });

  it('runs a plain string as one program without a shell, on the first container, failing the backup after 30s by default', () => {
    const hook = annotatedHook({ 'post.hook.backup.velero.io/command': '/usr/local/bin/resume writes' }, 'post');
    assert.deepEqual(hook, { prefix: 'post.hook.backup.velero.io', command: ['/usr/local/bin/resume writes'], container: undefined, onError: 'Fail', timeoutMs: 30_000, warnings: [] });
  });

  it('honours the legacy unprefixed annotations for pre hooks only, and only when no pre command is set', () => {
    const legacy = { 'hook.backup.velero.io/command': '["/sbin/fsfreeze", "--freeze", "/data"]', 'hook.backup.velero.io/container': 'fsfreeze' };
    assert.deepEqual(annotatedHook(legacy, 'pre')?.command, ['/sbin/fsfreeze', '--freeze', '/data']);
    assert.equal(annotatedHook(legacy, 'pre')?.container, 'fsfreeze');
    assert.equal(annotatedHook(legacy, 'post'), undefined);
    const both = { ...legacy, 'pre.hook.backup.velero.io/command': '["/bin/sync"]' };
    // The phased set wins whole: the legacy container does not leak into it.
    assert.deepEqual(annotatedHook(both, 'pre'), { prefix: 'pre.hook.backup.velero.io', command: ['/bin/sync'], container: undefined, onError: 'Fail', timeoutMs: 30_000, warnings: [] });
  });

  it('has no hook without a command annotation, even when the other annotations are set', () => {
    assert.equal(annotatedHook({ 'pre.hook.backup.velero.io/container': 'app', 'pre.hook.backup.velero.io/command': '' }, 'pre'), undefined);
    assert.equal(annotatedHook(undefined, 'pre'), undefined);
  });

  it('turns a command that is not a JSON array of strings into a failing hook that says how to write it', () => {
    const bad = annotatedHook({ 'pre.hook.backup.velero.io/command': '["/bin/sh", "-c", "sync"' }, 'pre')!;
    assert.deepEqual(bad.command, []);
    assert.match(bad.problem!, /^pre\.hook\.backup\.velero\.io\/command starts with "\[" but is not valid JSON .*; write a JSON array of strings such as \["\/bin\/sh", "-c", "sync"\]$/);
    assert.match(annotatedHook({ 'pre.hook.backup.velero.io/command': '["/bin/sleep", 5]' }, 'pre')!.problem!, /must be a JSON array of strings/);
    assert.match(annotatedHook({ 'post.hook.backup.velero.io/command': '[]' }, 'post')!.problem!, /post\.hook\.backup\.velero\.io\/command is an empty JSON array/);
  });

  it('keeps the default timeout for a duration Go cannot parse, and says so', () => {
    const hook = annotatedHook({ 'pre.hook.backup.velero.io/command': '/bin/sync', 'pre.hook.backup.velero.io/timeout': '300' }, 'pre')!;
    assert.equal(hook.timeoutMs, 30_000);
    assert.deepEqual(hook.warnings, ['pre.hook.backup.velero.io/timeout "300" is not a Go duration such as 30s or 1m30s (a bare number has no unit): the default 30s applies']);
    assert.equal(annotatedHook({ 'pre.hook.backup.velero.io/command': '/bin/sync', 'pre.hook.backup.velero.io/timeout': '0s' }, 'pre')!.timeoutMs, 30_000);
    const unlimited = annotatedHook({ 'pre.hook.backup.velero.io/command': '/bin/sync', 'pre.hook.backup.velero.io/timeout': '-1s' }, 'pre')!;
    assert.equal(unlimited.timeoutMs, undefined);
    assert.match(unlimited.warnings[0]!, /negative: the hook runs without a time limit/);
  });

  it('fails the backup for any on-error other than exactly Continue, warning about the unknown value', () => {
    const hook = annotatedHook({ 'pre.hook.backup.velero.io/command': '/bin/sync', 'pre.hook.backup.velero.io/on-error': 'continue' }, 'pre')!;
    assert.equal(hook.onError, 'Fail');
    assert.match(hook.warnings[0]!, /"continue", which is neither Fail nor Continue \(case matters\): Fail applies/);
  });
});

describe('Go durations', () => {
  it('parses what time.ParseDuration accepts', () => {
    const cases: [string, number][] = [['30s', 30_000], ['1m30s', 90_000], ['1.5h', 5_400_000], ['500ms', 500], ['.5s', 500], ['2h45m', 9_900_000], ['0', 0], ['+10s', 10_000], ['-2m', -120_000], ['1500us', 1.5], ['1µs', 0.001], ['3ns', 0.000003]];
    for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
  });

  it('refuses what time.ParseDuration refuses', () => {
    for (const text of ['', '30', '1.5', 's', '.s', '10 s', '1d', '1m30', 'thirty seconds', '-', '1S']) assert.equal(parseGoDuration(text), undefined, text);
  });

  it('prints durations the way Go does', () => {
    assert.deepEqual([30_000, 90_000, 1500, 250, 3_600_000].map(formatGoDuration), ['30s', '1m30s', '1.5s', '250ms', '1h0m0s']);
  });
});
