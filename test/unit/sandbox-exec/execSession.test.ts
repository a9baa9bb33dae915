import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { negotiateExecProtocol } from '../../sandbox/exec/execSession';
import { collectExec, eventually, openExec, opened, startExecServer, type ExecServer, type StartCommand } from './execHarness';

/** Runs the requested argv directly on this machine; the container side is covered elsewhere. */
const onHost: StartCommand = ({ command }) => ({ child: spawn(command[0], command.slice(1), { stdio: 'pipe' }) });

describe('exec session (WebSocket protocol, server side)', function () {
  this.timeout(10_000);
  let server: ExecServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('opens with an empty stdout frame and keeps stdout and stderr apart', async () => {
    server = await startExecServer(onHost);
    const t = await collectExec(openExec(server.url(['sh', '-c', 'echo out; echo err >&2; echo more'])));
    assert.deepEqual(t.channels[0], 1);
    assert.equal(t.stdout.toString(), 'out\nmore\n');
    assert.equal(t.stderr.toString(), 'err\n');
    assert.deepEqual(t.status, { metadata: {}, status: 'Success' });
    assert.equal(t.closeCode, 1000);
    assert.equal(t.channels.at(-1), 3, 'the status is the last frame');
  });

  it('reports a non-zero exit as NonZeroExitCode with the code as cause', async () => {
    server = await startExecServer(onHost);
    const t = await collectExec(openExec(server.url(['sh', '-c', 'echo partial; exit 3'])));
    assert.equal(t.stdout.toString(), 'partial\n');
    assert.deepEqual(t.status, {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c echo partial; exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    assert.equal(t.closeCode, 1000);
    assert.equal((await server.sessions[0].result).exitCode, 3);
  });

  it('pipes stdin and ends it on the v5 close frame [255, 0]', async () => {
    server = await startExecServer(onHost);
    const ws = openExec(server.url(['cat'], { stdin: true }));
    const transcript = collectExec(ws);
    await opened(ws);
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello ')]));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('world')]));
    ws.send(Buffer.from([255, 0]));
    const t = await transcript;
    assert.equal(t.stdout.toString(), 'hello world');
    assert.equal(t.status?.status, 'Success');
  });

  it('ends the session when the command exits, even with stdin still open', async () => {
    server = await startExecServer(onHost);
    const ws = openExec(server.url(['sh', '-c', 'echo done'], { stdin: true }));
    const t = await collectExec(ws);
    assert.equal(t.stdout.toString(), 'done\n');
    assert.equal(t.status?.status, 'Success');
  });

  it('without stdin=true the command reads end of input at once', async () => {
    server = await startExecServer(onHost);
    const t = await collectExec(openExec(server.url(['sh', '-c', 'cat; echo after-eof'])));
    assert.equal(t.stdout.toString(), 'after-eof\n');
  });

  it('speaks v4 when only v4 is offered, where [255, 0] does not close stdin', async () => {
    server = await startExecServer(onHost);
    const plain = openExec(server.url(['sh', '-c', 'echo v4 out; echo v4 err >&2; exit 5']), ['v4.channel.k8s.io']);
    const t = await collectExec(plain);
    assert.equal(plain.protocol, 'v4.channel.k8s.io');
    assert.equal(t.stdout.toString(), 'v4 out\n');
    assert.equal(t.stderr.toString(), 'v4 err\n');
    assert.equal(t.status?.details?.causes[0].message, '5');

    const ws = openExec(server.url(['cat'], { stdin: true }), ['v4.channel.k8s.io']);
    const transcript = collectExec(ws);
    await opened(ws);
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('still open')]));
    ws.send(Buffer.from([255, 0]));
    await new Promise((resolve) => setTimeout(resolve, 300));
    ws.close();
    const t4 = await transcript;
    assert.equal(t4.stdout.toString(), 'still open');
    assert.equal(t4.status, undefined, 'cat must still be running: v4 has no stdin close');
    await server.sessions[1].result;
    assert.equal(server.sessions[1].child.signalCode, 'SIGKILL');
  });

  it('prefers v5 and refuses offers without a channel protocol it speaks', async () => {
    assert.equal(negotiateExecProtocol(new Set(['channel.k8s.io', 'v4.channel.k8s.io', 'v5.channel.k8s.io'])), 'v5.channel.k8s.io');
    assert.equal(negotiateExecProtocol('v3.channel.k8s.io, v4.channel.k8s.io'), 'v4.channel.k8s.io');
    assert.equal(negotiateExecProtocol(['v3.channel.k8s.io', 'base64.channel.k8s.io']), undefined);
    assert.equal(negotiateExecProtocol(undefined), undefined);

    server = await startExecServer(onHost);
    const ws = openExec(server.url(['true']), ['v3.channel.k8s.io']);
    await assert.rejects(opened(ws), /Unexpected server response: 400/);
  });

  it('kills the command when the client goes away early', async () => {
    server = await startExecServer(onHost);
    const ws = openExec(server.url(['sleep', '30']));
    await opened(ws);
    await eventually(() => server!.sessions.length === 1);
    ws.terminate();
    const result = await server.sessions[0].result;
    assert.equal(server.sessions[0].child.signalCode, 'SIGKILL');
    assert.equal(result.exitCode, null);
  });

  it('overrides the reported exit code when the fault asks for it', async () => {
    server = await startExecServer(() => ({ child: spawn('true'), faults: { exitCodeOverride: 1 } }));
    const t = await collectExec(openExec(server.url(['tar', 'cf', '-', '.'])));
    assert.equal(t.status?.reason, 'NonZeroExitCode');
    assert.match(t.status?.message ?? '', /\[tar cf - \.\], exit code 1$/);
  });

  it('ends like a dying container when the pod is deleted: exit code 137, close 1000', async () => {
    const podDeleted = new AbortController();
    server = await startExecServer(({ command }) => ({ child: spawn(command[0], command.slice(1)), faults: { signal: podDeleted.signal } }));
    const ws = openExec(server.url(['sh', '-c', 'echo started; exec sleep 30']));
    const transcript = collectExec(ws);
    await eventually(() => server!.sessions.length === 1);
    setTimeout(() => podDeleted.abort(), 200);
    const t = await transcript;
    assert.equal(t.stdout.toString(), 'started\n');
    assert.equal(t.status?.details?.causes[0].message, '137');
    assert.match(t.status?.message ?? '', /exit code 137$/);
    assert.equal(t.closeCode, 1000);
  });

  it('reports a command that cannot start as an InternalError status', async () => {
    server = await startExecServer(() => ({ child: spawn('/nonexistent/tar') }));
    const t = await collectExec(openExec(server.url(['tar'])));
    assert.equal(t.status?.status, 'Failure');
    assert.equal(t.status?.reason, 'InternalError');
    assert.equal(t.closeCode, 1000);
  });

  it('cuts the connection without a close frame after the given stdout bytes', async () => {
    server = await startExecServer(({ command }) => ({ child: spawn(command[0], command.slice(1)), faults: { cutAfterBytes: 1_000_000 } }));
    const t = await collectExec(openExec(server.url(['head', '-c', '50000000', '/dev/zero'])), { keepStdout: false });
    assert.equal(t.closeCode, 1006);
    assert.equal(t.status, undefined);
    assert.equal(t.stdoutBytes, 1_000_000);
    const result = await server.sessions[0].result;
    assert.deepEqual(result, { exitCode: null, bytesOut: 1_000_000 });
  });

  it('slows the command down to a slow reader instead of buffering its output', async function () {
    this.timeout(20_000);
    const total = 200_000_000;
    server = await startExecServer(onHost);
    const ws = openExec(server.url(['head', '-c', String(total), '/dev/zero']));
    const transcript = collectExec(ws, { keepStdout: false });
    await opened(ws);
    ws.pause();
    await eventually(() => server!.sessions.length === 1);
    const { ws: serverWs, child } = server.sessions[0];

    let maxBuffered = 0;
    let sawPaused = false;
    const sampler = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, serverWs.bufferedAmount);
      sawPaused ||= child.stdout.isPaused();
    }, 5);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    clearInterval(sampler);
    const readWhilePaused = (child.stdout as unknown as { bytesRead: number }).bytesRead;
    // Reading again before asserting, so a failure does not leave the session hanging.
    ws.resume();

    assert.ok(sawPaused, 'the command output was never paused');
    assert.ok(maxBuffered < 4 * 1024 * 1024, `server buffered ${maxBuffered} bytes`);
    assert.ok(readWhilePaused < 40 * 1024 * 1024, `the command produced ${readWhilePaused} bytes for a reader that read nothing`);
    const t = await transcript;
    assert.equal(t.stdoutBytes, total, 'no byte lost under backpressure');
    assert.equal(t.status?.status, 'Success');
  });
});
