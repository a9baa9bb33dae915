import * as assert from 'node:assert/strict';
import { markdownCodeBlock, markdownTableRow, markdownText } from '../../../src/core/report/markdownText';

describe('markdownText', () => {
  it('escapes what Markdown would turn into markup', () => {
    assert.equal(markdownText('<b>*x*</b> [a](b) `c` _d_ ~e~ &amp; \\'), '\\<b\\>\\*x\\*\\</b\\> \\[a\\](b) \\`c\\` \\_d\\_ \\~e\\~ \\&amp; \\\\');
  });

  it('keeps a cell on one row', () => {
    assert.equal(markdownTableRow(['a|b', 'line 1\nline 2\r\nline 3', '']), '| a\\|b | line 1<br>line 2<br>line 3 |   |');
  });

  it('makes the fence longer than any backticks inside', () => {
    assert.deepEqual(markdownCodeBlock('sh', ['echo ````']), ['`````sh', 'echo ````', '`````']);
    assert.deepEqual(markdownCodeBlock('sh', ['echo hi']), ['```sh', 'echo hi', '```']);
  });
});
