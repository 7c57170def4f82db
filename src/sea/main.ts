/**
 * The single executable's main script. Node 20 runs it as CommonJS whose
 * `require` sees only built-in modules, and the tool is an ES module (ink's
 * yoga-layout awaits at its top level, which CommonJS cannot): so this entry
 * answers `--version` itself, then imports the embedded ESM bundle through
 * the main context's module loader (vm's USE_MAIN_CONTEXT_DEFAULT_LOADER).
 * scripts/dist.mjs bundles it as CommonJS; it never runs from the source tree.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAsset } from 'node:sea';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { onExit } from 'signal-exit';
import { versionLine } from '../version.js';

/**
 * Where to import the bundle from: a file in a private folder (mkdtemp, 0700)
 * that is removed once the bundle is loaded, or at exit; else, when no temp
 * folder can be written, a data: URL, which works but loads 0.2–0.3 s slower
 * (Node parses the whole URL).
 */
function bundleUrl(): { url: string; remove(): void } {
  const code = Buffer.from(getAsset('reset-doctor.mjs'));
  try {
    const dir = mkdtempSync(join(tmpdir(), 'reset-doctor-'));
    let removed = false;
    const remove = () => {
      if (!removed) rmSync(dir, { recursive: true, force: true });
      removed = true;
    };
    // Removed at exit or on a signal (SIGHUP, SIGTERM…) while loading, too; the process still dies of it.
    const forget = onExit(remove);
    const file = join(dir, 'reset-doctor.mjs');
    writeFileSync(file, code, { mode: 0o600 });
    return {
      url: pathToFileURL(file).href,
      remove: () => {
        remove();
        forget();
      },
    };
  } catch {
    return { url: `data:text/javascript;base64,${code.toString('base64')}`, remove: () => {} };
  }
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${versionLine()}\n`);
} else {
  // The loader option is marked experimental in Node 20; this binary carries its own Node, so the warning tells the operator nothing. Only that warning is dropped.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  const load = new vm.Script('(url) => import(url)', { filename: 'reset-doctor-sea-loader', importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext() as (url: string) => Promise<unknown>;
  const bundle = bundleUrl();
  // Once loaded, the bundle is in memory: everything it imports later is inside it.
  load(bundle.url).then(bundle.remove, (error: unknown) => {
    bundle.remove();
    process.stderr.write(`reset-doctor: internal error: cannot start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  });
}
