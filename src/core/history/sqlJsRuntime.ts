import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

/**
 * One compiled WebAssembly module per wasm file for the whole process: compiling takes tens of
 * milliseconds and every store can share it. Keyed by path so a bundled extension and the tests
 * can each name their own copy.
 */
const runtimes = new Map<string, Promise<SqlJsStatic>>();

/** The wasm file that ships with the installed `sql.js` package (not inside a bundle). */
export function defaultSqlJsWasmPath(): string {
  // Bundles (the extension, the nkvm command) ship the file next to themselves; sources find it in node_modules.
  const shipped = join(__dirname, 'sql-wasm.wasm');
  return existsSync(shipped) ? shipped : require.resolve('sql.js/dist/sql-wasm.wasm');
}

export function loadSqlJs(wasmPath: string = defaultSqlJsWasmPath()): Promise<SqlJsStatic> {
  let runtime = runtimes.get(wasmPath);
  if (runtime === undefined) {
    // The bytes are handed over directly so that sql.js never guesses file locations itself,
    // which fails once the JavaScript is bundled into another folder.
    runtime = readFile(wasmPath).then((file) =>
      initSqlJs({ wasmBinary: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer }),
    );
    runtimes.set(wasmPath, runtime);
    // A failed load (wrong path) must not poison later attempts with a corrected path or file.
    runtime.catch(() => runtimes.delete(wasmPath));
  }
  return runtime;
}
