import { describe, it } from 'vitest';

/**
 * Tests that need a real nginx or tmux: skipped with a printed reason when
 * the tool is absent on a developer's machine, failed when CI=true, since CI
 * installs them and a silent skip there would hide a broken setup.
 */
export function describeWithTools(name: string, missing: string[], body: () => void): void {
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `needs ${missing.join(', ')}, not installed`;
  if (process.env['CI'] === 'true') {
    describe(name, () => {
      it(`has ${missing.join(', ')} (CI installs them in .ci/run)`, () => {
        throw new Error(`${name}: ${reason}`);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${reason}`);
  describe.skip(name, body);
}
