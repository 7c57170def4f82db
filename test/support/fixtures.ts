import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SourceResults, type ProbeContext, type SourceResult } from '../../src/probe/contract.js';
import type { CommandResult } from '../../src/host/types.js';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures');

export interface CommandFixture {
  command: string[];
  recordedAs: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** Real output recorded on a real machine (see recordedOn in each file). */
export function commandFixture(name: string): CommandFixture {
  return JSON.parse(readFileSync(join(FIXTURES, 'commands', `${name}.json`), 'utf8')) as CommandFixture;
}

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function asResult(fixture: Pick<CommandFixture, 'stdout' | 'stderr' | 'exitCode'>): CommandResult {
  return { stdout: fixture.stdout, stderr: fixture.stderr, exitCode: fixture.exitCode, durationMs: 5 };
}

/** SourceResults for a probe whose sources are all commands, answered in order by the given outputs. */
export function commandResults(ids: string[], outputs: Array<Pick<CommandFixture, 'stdout' | 'stderr' | 'exitCode'>>, at = 1_800_000_000_000): SourceResults {
  const all: SourceResult[] = ids.map((id, i) => ({ id, kind: 'command', command: { file: 'x', args: [], timeoutMs: 1 }, result: asResult(outputs[i]!) }));
  return new SourceResults(all, at);
}

export function context(overrides: Partial<ProbeContext> = {}): ProbeContext {
  return {
    options: { nginxBin: 'nginx', errorLogs: [], sinceMs: 3_600_000 },
    host: { hostname: 'test', uid: 0, platform: 'linux', release: '6.1.0' },
    deps: {},
    windowEndMs: Date.now(),
    ...overrides,
  };
}

export function asUser(uid: number): Partial<ProbeContext> {
  return { host: { hostname: 'test', uid, platform: 'linux', release: '6.1.0' } };
}
