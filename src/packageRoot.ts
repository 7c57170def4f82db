import { join } from 'node:path';
import { assetRoot } from './assets.js';

/**
 * The folder laid out like the package: flows/ and the demo recordings ship
 * beside dist/. From the source tree and an npm install, the package itself;
 * in the bundle and the executable, a private copy of what they embed
 * (src/assets.ts).
 */
export const PACKAGE_ROOT = assetRoot();
export { VERSION } from './version.js';
export const FLOWS_DIR = join(PACKAGE_ROOT, 'flows');
export const DEMO_DIR = join(PACKAGE_ROOT, 'src', 'demo', 'recordings');
