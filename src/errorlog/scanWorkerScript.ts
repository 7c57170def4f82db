import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The scan worker's code, bundled as CommonJS by scripts/dist.mjs (esbuild `define`): a bundle has no scanWorker.js beside it. */
declare const __RESET_DOCTOR_SCAN_WORKER__: string | undefined;

/** How to start a scan worker: its file beside this one (source tree, npm install), or its code (bundle, executable). */
export type ScanWorkerScript = { file: URL } | { code: string };

export function scanWorkerScript(): ScanWorkerScript | null {
  if (typeof __RESET_DOCTOR_SCAN_WORKER__ === 'string') return { code: __RESET_DOCTOR_SCAN_WORKER__ };
  const file = new URL('./scanWorker.js', import.meta.url);
  // Tests run from src/, where there is only scanWorker.ts: they scan on one thread.
  return existsSync(fileURLToPath(file)) ? { file } : null;
}
