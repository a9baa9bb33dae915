import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath, missingAptPackages } from './codeServerInstall';

/** Headless system Chromium whose profile, config and caches live under `scratchDir`. */
export async function launchChromium(scratchDir: string): Promise<Browser> {
  const missing = missingAptPackages(['browser']);
  if (missing.length > 0) {
    throw new Error(`the browser needs: apt-get install -y ${missing.join(' ')}`);
  }
  const home = path.join(scratchDir, 'browser-home');
  mkdirSync(home, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox', // running as root in a container
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
    },
  });
}
