import type { CliArgs } from '../cli/args.js';
export async function resumeCommand(_args: CliArgs): Promise<number> {
  throw new Error('not yet');
}
