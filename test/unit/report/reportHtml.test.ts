import * as assert from 'node:assert/strict';
import { reportHtml } from '../../../src/report/reportHtml';

describe('report webview HTML', () => {
  const html = reportHtml({
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    nonce: '0f9c7a52-6d1e-4b8a-9a43-2c0b1d7e5f10',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/report.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/report.css?a="b"',
  });

  it('allows only its own stylesheet and the nonce script', () => {
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
    assert.equal(
      csp,
      "default-src 'none'; img-src https://file+.vscode-resource.vscode-cdn.net data:; style-src https://file+.vscode-resource.vscode-cdn.net; " +
        "script-src 'nonce-0f9c7a52-6d1e-4b8a-9a43-2c0b1d7e5f10'; font-src https://file+.vscode-resource.vscode-cdn.net",
    );
  });

  it('loads exactly one script, carrying the nonce', () => {
    assert.deepEqual(html.match(/<script[^>]*>/g), ['<script nonce="0f9c7a52-6d1e-4b8a-9a43-2c0b1d7e5f10" src="https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/report.js">']);
  });

  it('escapes values placed in attributes', () => {
    assert.ok(html.includes('report.css?a=&quot;b&quot;"'));
  });

  it('has the root the tests and the script look for', () => {
    assert.match(html, /<main id="report-root" data-testid="report-root"/);
  });
});
