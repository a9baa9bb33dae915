import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './deployManifests';

const script = path.join(repoRoot, 'deploy/start-code-server.sh');

/** Runs the entrypoint with POSIX sh, as dumb-init would, with `codeServer` standing in for code-server. */
function start(home: string, codeServer: string, env: NodeJS.ProcessEnv, args: string[] = []) {
  return spawnSync('sh', [script, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: home, CODE_SERVER: codeServer, ...env },
  });
}

describe('deploy/start-code-server.sh', () => {
  let dir: string;
  let home: string;
  // What a pod's environment holds; the extension, not the script, turns it into the "in-cluster" cluster.
  const inPod = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'nkvm-start-'));
    home = path.join(dir, 'home');
    mkdirSync(home);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands its arguments to code-server unchanged', () => {
    const args = ['--bind-addr=0.0.0.0:8080', '--auth=none', '--extensions-dir=/usr/lib/nkvm/extensions', '/var/lib/nkvm with space'];
    const fake = path.join(dir, 'code-server');
    writeFileSync(fake, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    chmodSync(fake, 0o755);
    const result = start(home, fake, inPod, args);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${args.join('\n')}\n`);
  });

  it('passes the environment on, so PASSWORD from a Secret reaches code-server for --auth=password', () => {
    const fake = path.join(dir, 'code-server');
    writeFileSync(fake, '#!/bin/sh\nprintf "%s|%s" "$PASSWORD" "$NKVM_BACKUP_DIR"\n');
    chmodSync(fake, 0o755);
    const result = start(home, fake, { ...inPod, PASSWORD: 's3cret value', NKVM_BACKUP_DIR: '/var/lib/nkvm/backups' }, ['--auth=password']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 's3cret value|/var/lib/nkvm/backups');
  });

  it('becomes code-server: its exit status is the container’s', () => {
    const result = start(home, '/bin/false', inPod);
    assert.equal(result.status, 1);
    const missing = start(home, path.join(dir, 'no-such-code-server'), inPod);
    assert.notEqual(missing.status, 0, 'a missing code-server must fail the container, not hang it');
  });

  it('writes nothing into HOME in a pod: no kubeconfig, the extension signs in with the ServiceAccount itself', () => {
    const result = start(home, '/bin/true', inPod);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(readdirSync(home), []);
  });
});
