import { formatCommand, type CommandFailure, type CommandResult, type CommandSpec } from '../host/types.js';
import { ProbeStatusError, type ProbeOutcome } from './contract.js';

/** A command that produced no exit code, as a probe outcome the operator can act on. */
export function describeCommandFailure(
  command: CommandSpec,
  failure: CommandFailure,
  packageHint: Record<string, string> | undefined,
): Pick<ProbeOutcome, 'status' | 'reason'> {
  switch (failure.kind) {
    case 'not-found': {
      const pkg = packageHint?.[command.file];
      return { status: 'unavailable', reason: `${command.file} is not installed or not on PATH${pkg ? ` (Debian/Ubuntu package: ${pkg})` : ''}` };
    }
    case 'timeout':
      return { status: 'timeout', reason: `${formatCommand(command)}: ${failure.message}` };
    case 'spawn-error':
      return { status: 'error', reason: `${formatCommand(command)}: ${failure.message}` };
    case 'not-recorded':
      return { status: 'error', reason: failure.message };
  }
}

const PERMISSION_PATTERNS = [/permission denied/i, /operation not permitted/i, /must be (run as )?root/i, /are you root/i];

/** Throws denied (with the sudo command) when a failed command says it lacked privileges. */
export function throwIfPermissionDenied(command: CommandSpec, result: CommandResult): void {
  if (result.exitCode === 0) return;
  const text = `${result.stderr}\n${result.stdout}`;
  const line = text.split('\n').find((l) => PERMISSION_PATTERNS.some((p) => p.test(l)));
  if (line === undefined) return;
  throw new ProbeStatusError('denied', `needs root: ${line.trim()}`, `sudo ${formatCommand(command)}`);
}

/** Throws error for a non-zero exit, with the first line of stderr as the reason. */
export function requireExitZero(command: CommandSpec, result: CommandResult): void {
  throwIfPermissionDenied(command, result);
  if (result.exitCode === 0) return;
  const first = result.stderr.trim().split('\n')[0] ?? '';
  throw new ProbeStatusError('error', `${formatCommand(command)} exited ${result.exitCode}${first ? `: ${first}` : ''}`);
}
