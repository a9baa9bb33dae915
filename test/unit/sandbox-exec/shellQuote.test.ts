import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { shellQuote } from '../../sandbox/exec/shellQuote';

describe('shellQuote', () => {
  it('hands every word to the command unchanged, whatever it contains', () => {
    const words = ['', 'plain', "it's", `a'b'c''`, '$(touch /tmp/x) `id` $HOME', 'two  spaces', '*', '~', 'A=b', '-n', 'line\nbreak', '\\', '"', 'ünï ✓'];
    const script = `printf '%s\\0' ${words.map(shellQuote).join(' ')}`;
    const out = execFileSync('/bin/sh', ['-c', script]).toString('utf8');
    assert.deepEqual(out.split('\0').slice(0, -1), words);
  });

  it('refuses NUL, which no shell word can carry', () => {
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });
});
