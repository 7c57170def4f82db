import { resolve } from 'node:path';
import { readAsset } from '../assets.js';
import { UserError } from '../util/userError.js';
import { loadFleet } from './load.js';
import { summarize } from './summary.js';
import { fleetText } from './text.js';

/** The playbook ships inside the tool (package file, or an asset of a build): `fleet playbook` prints it. */
export const PLAYBOOK_ASSET = 'src/fleet/reset-doctor.yml';

const USAGE = 'fleet takes "playbook" or "report DIR" (see reset-doctor --help)';

/**
 * `fleet playbook`: print the Ansible playbook. `fleet report DIR [--json]`:
 * one view of the reports the playbook fetched. Exit 0 when every host
 * reported and none has a finding, 1 when a host failed or has findings.
 */
export function fleetCommand(positionals: string[], json: boolean): number {
  const [sub, ...rest] = positionals;
  if (sub === 'playbook') {
    if (rest.length > 0) throw new UserError(`fleet playbook takes no arguments (got "${rest[0]}")`);
    process.stdout.write(readAsset(PLAYBOOK_ASSET));
    return 0;
  }
  if (sub === 'report') {
    if (rest.length !== 1) throw new UserError('fleet report takes one folder: the reports the playbook fetched (reset_doctor_reports)');
    const dir = resolve(rest[0]!);
    const summary = summarize(loadFleet(dir));
    process.stdout.write(json ? JSON.stringify(summary, null, 2) + '\n' : fleetText(summary, rest[0]!));
    return summary.hosts.some((h) => !h.ok || h.exit !== 0) ? 1 : 0;
  }
  throw new UserError(sub === undefined ? USAGE : `unknown fleet command "${sub}": ${USAGE}`);
}
