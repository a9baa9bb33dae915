// Installs the VS Code (code-server) the harness drives, or says which apt packages to add first.
import { ensureCodeServer, missingAptPackages } from './codeServerInstall';

async function main(): Promise<void> {
  const missing = missingAptPackages();
  if (missing.length > 0) {
    console.error(`Missing Debian packages. As root: apt-get update && apt-get install -y ${missing.join(' ')}`);
    process.exitCode = 1;
    return;
  }
  const entry = await ensureCodeServer();
  console.log(`code-server ready: ${entry}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
