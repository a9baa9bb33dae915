import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompressionMode } from '../../../src/core/backup/archiveCommand';
import { runBackups } from '../../../src/core/backup/backupRun';
import { backupVolume, BackupSettings } from '../../../src/core/backup/backupVolume';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { SandboxFixture, startSandbox } from '../sandboxFixture';
import { folderEntries } from '../treeListing';

const modes: CompressionMode[] = ['pod-gzip', 'local-gzip', 'none'];

/** Entries the system tar lists, `./` root dropped, sorted: `-tzf` for gzip, `-tf` for plain tar. */
function listed(archivePath: string, gzip: boolean): string[] {
  const out = execFileSync('tar', [gzip ? '-tzf' : '-tf', archivePath], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\n').filter((l) => l && l !== './').sort();
}

const threadCount = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

describe('backup compression modes and include/exclude paths', function () {
  this.timeout(90_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let runs = 0;
  let volume: string;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    volume = sb.cluster.volumePath('media', 'archive-2019');
    // Text that compresses and data that does not, several local gzip blocks of each.
    mkdirSync(join(volume, 'logs'), { recursive: true });
    writeFileSync(join(volume, 'logs', 'app.log'), Array.from({ length: 60_000 }, (_, i) => `2026-11-27T10:00:${String(i % 60).padStart(2, '0')}Z INFO request=${i} status=200\n`).join(''));
    writeFileSync(join(volume, 'logs', 'debug.log'), 'debug\n');
    writeFileSync(join(volume, 'blob.bin'), randomBytes(3_000_000));
    mkdirSync(join(volume, "my dir's $HOME"), { recursive: true });
    writeFileSync(join(volume, "my dir's $HOME", 'a "quoted" name.txt'), 'spaces and quotes\n');
  });
  after(async () => sb?.stop());
  afterEach(() => sb.cluster.faults.clear());

  const settingsFor = (compression: CompressionMode, extra: Partial<BackupSettings> = {}): BackupSettings => ({
    backupDir: join(sb.dir, `backups-${++runs}`),
    helperImage: 'alpine:3.20',
    helperPodTimeoutSeconds: 20,
    compression,
    compressionLevel: 6,
    ...extra,
  });
  const leftoverHelpers = async () => (await core.listPodForAllNamespaces({ labelSelector: 'app.kubernetes.io/component=backup-helper' })).items.map((p) => p.metadata?.name);
  const filesUnder = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name) : []);
  const sha256sum = (file: string): string => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];

  for (const mode of modes) {
    it(`${mode}: the system tar lists the volume tree, the files extract unchanged, and sha256sum equals the checksum in the history`, async () => {
      const settings = settingsFor(mode);
      const history = await HistoryStore.open(join(sb.dir, `history-${runs}.db`));
      try {
        const run = await runBackups([{ context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }], { kubeConfigFor: () => sb.kubeConfig, settings, concurrency: 1, history });
        const [result] = run.results;
        assert.equal(result.status, 'success', result.message);
        const gzip = mode !== 'none';
        assert.match(result.archivePath!, gzip ? /\.tar\.gz$/ : /\d{9}Z\.tar$/);
        if (gzip) execFileSync('gzip', ['-t', result.archivePath!]);
        assert.deepEqual(listed(result.archivePath!, gzip), folderEntries(volume).map((e) => `./${e.slice(2)}`));
        const out = join(sb.dir, `extracted-${runs}`);
        mkdirSync(out);
        execFileSync('tar', [gzip ? '-xzf' : '-xf', result.archivePath!, '-C', out]);
        execFileSync('diff', ['-r', volume, out]);
        const [row] = await history.byRun(run.runId);
        assert.equal(row.checksum, sha256sum(result.archivePath!));
        assert.equal(result.sizeBytes, readFileSync(result.archivePath!).length);
        assert.deepEqual(await leftoverHelpers(), []);
      } finally {
        await history.close();
      }
    });

    it(`${mode}: a byte flipped in transit is caught, and neither an archive nor a helper pod is left`, async () => {
      const settings = settingsFor(mode);
      sb.cluster.faults.inject({ kind: 'execCorrupt', target: { namespace: 'media', pod: 'nkvm-backup-*' }, byteOffset: 200_000 });
      const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, settings, 'corrupt-run');
      assert.equal(result.status, 'failed');
      assert.equal(result.stage, 'checksum', result.message);
      assert.match(result.message, /differs from what the pod sent/);
      assert.deepEqual(filesUnder(settings.backupDir), []);
      assert.deepEqual(await leftoverHelpers(), []);
    });
  }

  it('pod-gzip: the level reaches gzip in the pod (level 1 archives are larger than level 9)', async function () {
    // Debian's BusyBox gzip ignores levels, so this runs on an image with GNU gzip, as a real one would.
    const fast = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, settingsFor('pod-gzip', { compressionLevel: 1, helperImage: 'debian:12-slim' }), 'level-1');
    const small = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, settingsFor('pod-gzip', { compressionLevel: 9, helperImage: 'debian:12-slim' }), 'level-9');
    assert.equal(fast.status, 'success', fast.message);
    assert.equal(small.status, 'success', small.message);
    assert.ok(small.sizeBytes! < fast.sizeBytes!, `level 9 ${small.sizeBytes} < level 1 ${fast.sizeBytes}`);
  });

  for (const mode of modes) {
    it(`${mode}: include paths with globs, spaces and quotes, and exclude paths, decide what the archive holds`, async () => {
      // GNU tar's image: the sandbox's BusyBox stand-in lacks --exclude, which alpine's BusyBox has.
      const settings = settingsFor(mode, { helperImage: 'debian:12-slim', backupInclude: ['logs/*.log', "my dir's $HOME", 'notes.txt'], backupExclude: ['logs/debug.log'] });
      const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, settings, 'paths-run');
      assert.equal(result.status, 'success', result.message);
      assert.deepEqual(listed(result.archivePath!, mode !== 'none'), ['./logs/app.log', "./my dir's $HOME/", `./my dir's $HOME/a "quoted" name.txt`, './notes.txt']);
      assert.equal(sha256sum(result.archivePath!), result.checksum);
    });
  }

  it("include paths work with the alpine image's BusyBox tar too", async () => {
    const settings = settingsFor('local-gzip', { backupInclude: ["my dir's $HOME", 'photos'] });
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, settings, 'busybox-paths');
    assert.equal(result.status, 'success', result.message);
    const entries = listed(result.archivePath!, true);
    assert.ok(entries.includes(`./my dir's $HOME/a "quoted" name.txt`));
    assert.ok(entries.includes('./photos/2019/holiday/IMG_0001.raw'));
    assert.ok(!entries.some((e) => e.startsWith('./logs')));
  });

  it('an include path that matches nothing fails the exec stage with its name, leaving nothing behind', async () => {
    const settings = settingsFor('local-gzip', { backupInclude: ['no-such-folder'] });
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, settings, 'missing-include');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'exec');
    assert.match(result.message, /nothing in the volume matches the include path no-such-folder/);
    assert.deepEqual(filesUnder(settings.backupDir), []);
    assert.deepEqual(await leftoverHelpers(), []);
  });

  it('local-gzip: cancelling mid-stream leaves no archive, no helper pod and no compression thread', async () => {
    execFileSync('sh', ['-c', `head -c 40000000 /dev/urandom > '${volume}/big.bin'`]);
    const threadsBefore = threadCount();
    try {
      const settings = settingsFor('local-gzip');
      const controller = new AbortController();
      const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, settings, 'cancel-run', {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.stage === 'copy' && p.bytes > 0) controller.abort();
        },
      });
      assert.equal(result.status, 'cancelled');
      assert.deepEqual(filesUnder(settings.backupDir), []);
      assert.deepEqual(await leftoverHelpers(), []);
      const deadline = Date.now() + 5000;
      while (threadCount() > threadsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(threadCount() <= threadsBefore, `threads ${threadCount()} > ${threadsBefore}`);
    } finally {
      execFileSync('rm', ['-f', `${volume}/big.bin`]);
    }
  });
});
