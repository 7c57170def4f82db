/**
 * `npm run dist` (after `npm run build`, which it leaves in place): the two
 * builds for a server without Node or without node_modules.
 *
 *   dist/reset-doctor.mjs         one ESM bundle, every asset inside; `node reset-doctor.mjs` on Node ≥ 20
 *   dist/reset-doctor-linux-x64   a Node single executable application (SEA) of the Node running this script
 *   dist/SHA256SUMS               for both, in `sha256sum -c` form
 *
 * The assets (src/assets.ts) and the scan worker's code (src/errorlog/scanWorkerScript.ts)
 * reach the code through esbuild's `define`; src/sea/main.ts says how the executable starts.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { ROOT, stamp } from './stamp.mjs';

const DIST = join(ROOT, 'dist');
const WORK = join(DIST, 'sea');
const BUNDLE = join(DIST, 'reset-doctor.mjs');
const EXECUTABLE = join(DIST, 'reset-doctor-linux-x64');
/** Node's SEA fuse: the string postject flips so the binary runs its injected blob. */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** The files under dir ending in ext, subfolders included (a flow's sub-flows sit in a folder named after it). */
const files = (dir, ext) =>
  readdirSync(join(ROOT, dir), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => (entry.isDirectory() ? files(`${dir}/${entry.name}`, ext) : entry.name.endsWith(ext) ? [`${dir}/${entry.name}`] : []));
/** Package-relative names, read by src/assets.ts. */
const ASSETS = ['dist/src/errorlog/scanner.wasm', ...files('flows', '.yaml'), ...files('src/demo/recordings', '.json')];

/** ink imports react-devtools-core (not a dependency) only when DEV=true: the bundle leaves it out. */
const dropDevtools = {
  name: 'drop-react-devtools',
  setup(b) {
    b.onLoad({ filter: /[\\/]ink[\\/]build[\\/]devtools\.js$/ }, () => ({ contents: '', loader: 'js' }));
  },
};

/** The CommonJS builds (worker, executable's main) never reach assets.ts's import.meta: their assets and stamp are defined. */
const common = { logOverride: { 'empty-import-meta': 'silent' }, bundle: true, platform: 'node', target: 'node20', minifySyntax: true, minifyWhitespace: true, legalComments: 'none', logLevel: 'warning', write: false };

/** The scan worker as one CommonJS script, started with `new Worker(code, { eval: true })`. */
async function workerCode(assets) {
  const out = await build({ ...common, entryPoints: [join(ROOT, 'src/errorlog/scanWorker.ts')], format: 'cjs', define: { __RESET_DOCTOR_ASSETS__: JSON.stringify(assets) } });
  return out.outputFiles[0].text;
}

/** The whole tool as one ES module. CommonJS dependencies call require('assert') and the like: the banner gives them one. */
async function esmBundle(out, assets, buildInfo) {
  await build({
    ...common,
    entryPoints: [join(ROOT, 'src/cli.ts')],
    format: 'esm',
    outfile: out,
    write: true,
    plugins: [dropDevtools],
    // Inside the executable the bundle is a data: URL, which createRequire does not take.
    banner: { js: "import { createRequire as __rdCreateRequire } from 'node:module'; const require = __rdCreateRequire(import.meta.url.startsWith('file:') ? import.meta.url : process.execPath);" },
    define: {
      __RESET_DOCTOR_ASSETS__: JSON.stringify(assets),
      __RESET_DOCTOR_SCAN_WORKER__: JSON.stringify(await workerCode(assets)),
      __RESET_DOCTOR_BUILD__: JSON.stringify(buildInfo),
    },
  });
}

async function executable(buildInfo) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    process.stdout.write(`dist: no executable: it is built on linux-x64 (this is ${process.platform}-${process.arch})\n`);
    return false;
  }
  const seaAssets = { store: 'sea', names: ASSETS };
  const bundle = join(WORK, 'reset-doctor.mjs');
  await esmBundle(bundle, seaAssets, buildInfo);
  const main = join(WORK, 'main.cjs');
  await build({ ...common, entryPoints: [join(ROOT, 'src/sea/main.ts')], format: 'cjs', outfile: main, write: true, define: { __RESET_DOCTOR_BUILD__: JSON.stringify(buildInfo) } });
  const blob = join(WORK, 'sea-prep.blob');
  const config = {
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    assets: { 'reset-doctor.mjs': bundle, ...Object.fromEntries(ASSETS.map((name) => [name, join(ROOT, name)])) },
  };
  writeFileSync(join(WORK, 'sea-config.json'), JSON.stringify(config, null, 2));
  execFileSync(process.execPath, ['--experimental-sea-config', join(WORK, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(EXECUTABLE, { force: true });
  copyFileSync(process.execPath, EXECUTABLE);
  chmodSync(EXECUTABLE, 0o755);
  const { inject } = createRequire(import.meta.url)('postject');
  await inject(EXECUTABLE, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  return true;
}

function sha256sums(paths) {
  const lines = paths.map((p) => `${createHash('sha256').update(readFileSync(p)).digest('hex')}  ${relative(DIST, p)}\n`);
  writeFileSync(join(DIST, 'SHA256SUMS'), lines.join(''));
}

async function main() {
  if (Number(process.versions.node.split('.')[0]) < 20) throw new Error('dist: needs Node 20 or later');
  // The fleet playbook, printed by `reset-doctor fleet playbook` (src/fleet/command.ts).
  ASSETS.push('src/fleet/reset-doctor.yml');
  for (const name of ASSETS) statSync(join(ROOT, name)); // run `npm run build` first: the wasm comes from it
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const buildInfo = stamp();
  await esmBundle(BUNDLE, { store: 'inline', files: Object.fromEntries(ASSETS.map((name) => [name, readFileSync(join(ROOT, name)).toString('base64')])) }, buildInfo);
  chmodSync(BUNDLE, 0o755);
  const built = [BUNDLE];
  if (await executable(buildInfo)) built.push(EXECUTABLE);
  sha256sums(built);
  for (const p of built) process.stdout.write(`dist: ${relative(ROOT, p)} ${(statSync(p).size / 1e6).toFixed(1)} MB (Node ${process.version}, ${buildInfo.commit}, ${buildInfo.date})\n`);
}

await main();
