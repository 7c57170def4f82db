import { RealHost } from '../host/realHost.js';
import { RecordedHost } from '../host/recordedHost.js';
import { RecordingHost } from '../host/recordingHost.js';
import { loadRecording, saveRecording } from '../host/recordingFile.js';
import type { Host } from '../host/types.js';
import { runProbes } from '../probe/runner.js';
import { PROBES } from '../../probes/index.js';
import { UserError } from '../util/userError.js';
import { scenarioOptions } from '../demo/scenarios.js';
import type { CliArgs } from './args.js';
import { findNginxBinary } from './nginxBinary.js';
import { checkNginxConf } from './nginxConf.js';

const MARK: Record<string, string> = { ok: '✔', skipped: '-', unavailable: '✖', denied: '✖', timeout: '✖', error: '✖' };

/** `reset-doctor probe [ID…]`: run probes directly, for one answer fast or for scripts. Exit 0 when every probe ran ok. */
export async function probeCommand(args: CliArgs): Promise<number> {
  const ids = args.positionals.length > 0 ? args.positionals : [...PROBES.keys()];
  const unknown = ids.filter((id) => !PROBES.has(id));
  if (unknown.length) throw new UserError(`no probe ${unknown.map((u) => `"${u}"`).join(', ')} (probes: ${[...PROBES.keys()].join(', ')})`);
  let host: Host;
  let options = args.probeOptions;
  if (args.replay) {
    const recording = await loadRecording(args.replay);
    host = new RecordedHost(recording);
    options = scenarioOptions(recording);
  } else {
    host = new RealHost();
    await checkNginxConf(host, options.nginxConf);
    if (!args.nginxBinGiven) options = { ...options, nginxBin: await findNginxBinary(host) };
  }
  const recorder = args.record ? new RecordingHost(host) : null;
  const outcomes = await runProbes({ ids, registry: PROBES, host: recorder ?? host, options });
  if (recorder && args.record) {
    const { masked } = await saveRecording(args.record, recorder.toRecording({ ...options }));
    process.stderr.write(`reset-doctor: probes recorded to ${args.record} (owner-only; ${masked} secret value(s) masked)\n`);
  }
  const ordered = [...outcomes].sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
  if (args.json) {
    const probes = ordered.map((o) => ({
      id: o.id,
      status: o.status,
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.sudoHint ? { sudoHint: o.sudoHint } : {}),
      ...(o.partial ? { partial: o.partial } : {}),
      command: o.commands.join(' ; '),
      commands: o.commands,
      durationMs: o.durationMs,
      summary: o.summary,
      facts: o.facts ?? null,
    }));
    process.stdout.write(JSON.stringify({ probes }, null, 2) + '\n');
  } else {
    for (const o of ordered) {
      process.stdout.write(`${MARK[o.status] ?? '?'} ${o.id.padEnd(18)} ${o.summary}  (${o.durationMs} ms)${o.partial ? `  [partial: ${o.partial}]` : ''}\n`);
      for (const command of o.commands) process.stdout.write(`    $ ${command}\n`);
      if (o.sudoHint) process.stdout.write(`    run as root: ${o.sudoHint}\n`);
    }
  }
  return ordered.every((o) => o.status === 'ok') ? 0 : 1;
}
