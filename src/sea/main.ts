/**
 * The single executable's main script. Node 20 runs it as CommonJS whose
 * `require` sees only built-in modules, and the tool is an ES module (ink's
 * yoga-layout awaits at its top level, which CommonJS cannot): so this entry
 * answers `--version` itself, then imports the embedded ESM bundle from
 * memory, as a data: URL, through the main context's module loader (vm's
 * USE_MAIN_CONTEXT_DEFAULT_LOADER). Nothing is written to disk.
 * scripts/dist.mjs bundles it as CommonJS; it never runs from the source tree.
 */
import { getAsset } from 'node:sea';
import vm from 'node:vm';
import { versionLine } from '../version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${versionLine()}\n`);
} else {
  const code = Buffer.from(getAsset('reset-doctor.mjs')).toString('base64');
  // The loader option is marked experimental in Node 20; this binary carries its own Node, so the warning tells the operator nothing. Only that warning is dropped.
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (!String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  const load = new vm.Script('(url) => import(url)', { filename: 'reset-doctor-sea-loader', importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext() as (url: string) => Promise<unknown>;
  load(`data:text/javascript;base64,${code}`).catch((error: unknown) => {
    process.stderr.write(`reset-doctor: internal error: cannot start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  });
}
