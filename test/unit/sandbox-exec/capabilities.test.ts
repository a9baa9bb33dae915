import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { containerCapabilities, RUNTIME_DEFAULT_CAPABILITIES } from '../../sandbox/exec/capabilities';

/** This kernel's capabilities as setpriv lists them, the names a container's set is checked against. */
const known = execFileSync('setpriv', ['--list-caps'], { encoding: 'utf8' }).split('\n').filter(Boolean);

describe('container capabilities as containerd computes them from securityContext.capabilities', () => {
  it("gives a container that asks for nothing containerd's fourteen defaults, without DAC_READ_SEARCH or SYS_ADMIN", () => {
    const caps = containerCapabilities(undefined, known);
    assert.equal(caps.length, RUNTIME_DEFAULT_CAPABILITIES.length);
    assert.ok(caps.includes('dac_override') && caps.includes('chown') && caps.includes('net_bind_service'));
    assert.ok(!caps.includes('dac_read_search') && !caps.includes('sys_admin'));
  });

  it('drops ALL, then adds what is named', () => {
    assert.deepEqual(containerCapabilities({ drop: ['ALL'] }, known), []);
    assert.deepEqual(containerCapabilities({ drop: ['ALL'], add: ['DAC_OVERRIDE'] }, known), ['dac_override']);
  });

  it('lets a named drop win over a named add, and drop ALL win over add ALL', () => {
    assert.deepEqual(containerCapabilities({ add: ['NET_ADMIN'], drop: ['NET_ADMIN'] }, known).includes('net_admin'), false);
    assert.deepEqual(containerCapabilities({ add: ['ALL'], drop: ['ALL'] }, known), []);
    assert.equal(containerCapabilities({ add: ['ALL'], drop: ['CHOWN'] }, known).length, known.length - 1);
  });

  it('accepts the CAP_ prefix and any case, and refuses a name the kernel does not have', () => {
    assert.deepEqual(containerCapabilities({ drop: ['all'], add: ['cap_chown'] }, known), ['chown']);
    assert.throws(() => containerCapabilities({ add: ['MAKE_COFFEE'] }, known), /unknown capability "MAKE_COFFEE"/);
  });
});
