import { strict as assert } from 'node:assert';
import { cfsQuotaMicros, parseCpuQuantity, parseMemoryQuantity } from '../../sandbox/exec/cpuLimit';

describe('CPU limits as the kubelet turns them into a CFS quota', () => {
  it('reads the quantity forms a pod spec uses, in millicores', () => {
    assert.equal(parseCpuQuantity('250m'), 250);
    assert.equal(parseCpuQuantity('0.5'), 500);
    assert.equal(parseCpuQuantity('2'), 2000);
    assert.equal(parseCpuQuantity('1.5'), 1500);
    assert.equal(parseCpuQuantity('.1'), 100);
    assert.equal(parseCpuQuantity('1e-1'), 100);
    assert.equal(parseCpuQuantity('1k'), 1_000_000);
  });

  it('rounds a fraction of a millicore up, as the kubelet does', () => {
    assert.equal(parseCpuQuantity('0.0001'), 1);
    assert.equal(parseCpuQuantity('100u'), 1);
    assert.equal(parseCpuQuantity('1500u'), 2);
  });

  it('refuses what is not a quantity instead of running without a limit', () => {
    for (const text of ['', 'abc', '-1', '250 m', '1.2.3', 'm']) assert.throws(() => parseCpuQuantity(text), /invalid CPU quantity/, text);
  });

  it('gives limit x 100 ms per period, and never less than the kubelet minimum of 1 ms', () => {
    assert.equal(cfsQuotaMicros(250), 25_000);
    assert.equal(cfsQuotaMicros(2000), 200_000);
    assert.equal(cfsQuotaMicros(5), 1_000);
  });

  it('reads memory limits in bytes, binary and decimal suffixes alike, rounding up', () => {
    assert.equal(parseMemoryQuantity('256Mi'), 256 * 2 ** 20);
    assert.equal(parseMemoryQuantity('1G'), 1e9);
    assert.equal(parseMemoryQuantity('128974848'), 128974848);
    assert.equal(parseMemoryQuantity('129e6'), 129e6);
    assert.equal(parseMemoryQuantity('1500m'), 2);
    assert.throws(() => parseMemoryQuantity('lots'), /invalid memory quantity/);
  });
});
