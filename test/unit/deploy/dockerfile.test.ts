import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CODE_SERVER_VERSION } from '../../harness/codeServerInstall';
import { appObjects, deploymentOf, readPackageJson, repoRoot, workbenchContainer } from './deployManifests';

const dockerfile = readFileSync(path.join(repoRoot, 'deploy/Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined and comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const instruction = (name: string): string[] =>
  instructions.filter((l) => l.toUpperCase().startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());

/** `.dockerignore` semantics for the patterns used here: later lines win, `!` re-includes, `*` stays in one segment. */
function ignored(file: string, patterns: string[]): boolean {
  let result = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const glob = negate ? raw.slice(1) : raw;
    const regex = new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}(/.*)?$`);
    if (regex.test(file)) result = !negate;
  }
  return result;
}

describe('deploy/Dockerfile', () => {
  const container = workbenchContainer(deploymentOf(appObjects()));

  it('builds on the code-server the extension is tested with', () => {
    assert.deepEqual(instruction('FROM'), [`codercom/code-server:${CODE_SERVER_VERSION}`]);
  });

  it('installs the file `npm run package` writes for this version', () => {
    const { name, version } = readPackageJson();
    assert.deepEqual(instruction('ARG'), [`VSIX=${name}-${version}.vsix`]);
    assert.match(readPackageJson().scripts.package, /^vsce package/);
  });

  it('starts code-server with the flags the Deployment passes, on the port and user it declares', () => {
    const cmd = JSON.parse(instruction('CMD')[0]) as string[];
    assert.deepEqual(cmd, container.args, 'the Dockerfile CMD and the Deployment args differ');
    assert.deepEqual(instruction('EXPOSE'), [String(container.ports![0].containerPort)]);
    const users = instruction('USER');
    assert.equal(users.at(-1), String(deploymentOf(appObjects()).spec!.template.spec!.securityContext!.runAsUser));
  });

  it('loads the extension from the folder it was installed into, outside the emptyDir on HOME', () => {
    const extensionsDir = /--extensions-dir=(\S+)/.exec(container.args!.join(' '))![1];
    assert.ok(!extensionsDir.startsWith('/home/coder'), 'an emptyDir on /home/coder would hide the installed extension');
    assert.ok(instruction('RUN').some((r) => r.includes(`--extensions-dir ${extensionsDir}`) && r.includes('--install-extension')));
  });

  it('gives a plain `docker run` the same NKVM_* paths the Deployment sets', () => {
    const fromImage = Object.fromEntries(
      instruction('ENV')
        .flatMap((e) => e.split(/\s+/))
        .map((pair) => pair.split('='))
        .filter(([name]) => name.startsWith('NKVM_')),
    );
    const fromDeployment = Object.fromEntries((container.env ?? []).filter((e) => e.name.startsWith('NKVM_')).map((e) => [e.name, e.value]));
    assert.ok(Object.keys(fromImage).length > 0, 'the image sets no NKVM_* path');
    assert.deepEqual(fromImage, fromDeployment, 'the Dockerfile ENV and the Deployment env differ');
  });

  it('copies only files the build context lets in, and runs the start script it copies', () => {
    const patterns = readFileSync(path.join(repoRoot, 'deploy/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const { name, version } = readPackageJson();
    const sources = instruction('COPY').map((c) => c.split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1)[0]);
    for (const source of sources) {
      const file = source === '${VSIX}' ? `${name}-${version}.vsix` : source;
      assert.ok(!ignored(file, patterns), `${file} is excluded by deploy/Dockerfile.dockerignore`);
      if (file !== `${name}-${version}.vsix`) assert.ok(existsSync(path.join(repoRoot, file)), `${file} does not exist`);
    }
    assert.ok(ignored('node_modules/x', patterns) && ignored('.vscode-test/code-server', patterns), 'the build context would include node_modules');
    const [entrypoint] = instruction('ENTRYPOINT');
    assert.deepEqual(JSON.parse(entrypoint), ['/usr/bin/dumb-init', '--', '/usr/local/bin/start-code-server']);
    assert.ok(instruction('COPY').some((c) => c.endsWith('deploy/start-code-server.sh /usr/local/bin/start-code-server')));
  });
});
