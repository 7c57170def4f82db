import { RealHost } from '../host/realHost.js';
import { RecordedHost } from '../host/recordedHost.js';
import { RecordingHost } from '../host/recordingHost.js';
import { loadRecording, saveRecording } from '../host/recordingFile.js';
import type { Host } from '../host/types.js';
import type { ProbeOptions } from '../probe/contract.js';
import { loadScenario, scenarioOptions } from '../demo/scenarios.js';
import { resolveFlow } from '../flow/resolve.js';
import type { Flow } from '../flow/schema.js';
import { PROBES } from '../../probes/index.js';
import { Session, type Prepared } from '../session.js';
import { UserError } from '../util/userError.js';
import { findNginxBinary } from './nginxBinary.js';
import { checkNginxConf } from './nginxConf.js';
import type { CliArgs } from './args.js';
import { openTranscript } from '../transcript/session.js';
import type { StartEvent } from '../transcript/events.js';

/** Everything a run needs: the flow, the host (real, recorded or recording), the session. */
export async function prepare(args: CliArgs, demoName: string | null, mode: StartEvent['mode'] = 'diagnose', resumes?: string): Promise<Prepared> {
  const flow = await resolveFlow(args.flow);
  for (const [node, choice] of args.answers) {
    const target = flow.nodes[node];
    if (target?.kind !== 'ask') throw new UserError(`--answer ${node}=${choice}: flow ${flow.id} has no question "${node}"`);
    if (!target.choices.some((c) => c.id === choice)) {
      throw new UserError(`--answer ${node}=${choice}: choices are ${target.choices.map((c) => c.id).join(', ')}`);
    }
  }
  let host: Host;
  let options = args.probeOptions;
  const replaying = demoName ?? args.replay ?? null;
  if (demoName && args.replay) throw new UserError('--demo and --replay both replay a recording: give one');
  if (replaying) {
    const recording = demoName ? await loadScenario(demoName) : await loadReplay(args.replay!);
    host = new RecordedHost(recording);
    options = scenarioOptions(recording);
  } else {
    host = new RealHost();
    await checkNginxConf(host, options.nginxConf);
  }
  // One recorder feeds both --record and the transcript: they hold the same entries.
  const recorder = args.record || !args.transcript.off ? new RecordingHost(host, Boolean(args.record)) : null;
  const sessionHost = recorder ?? host;
  if (!replaying && !args.nginxBinGiven) options = { ...options, nginxBin: await findNginxBinary(sessionHost) };
  const session = new Session({ flow, host: sessionHost, options, registry: PROBES });
  const transcript = recorder
    ? await openTranscript({ args, mode, flow, recorder, options, session, replaying: demoName ? { demo: demoName } : args.replay ? { file: args.replay } : null, ...(resumes ? { resumes } : {}) })
    : null;
  return {
    flow,
    host: sessionHost,
    options,
    session,
    demo: demoName,
    stateDir: args.apply.stateDir,
    transcript,
    async finish() {
      await session.settle();
      if (recorder && args.record) {
        const { masked } = await saveRecording(args.record, recorder.toRecording({ ...options, flow: flow.id }));
        process.stderr.write(`reset-doctor: session recorded to ${args.record} (owner-only; ${masked} secret value(s) masked)\n`);
      }
    },
  };
}

/** --replay takes a --record file or a session transcript: the transcript's host events are the same entries. */
async function loadReplay(path: string) {
  const { readFile } = await import('node:fs/promises');
  const { looksLikeTranscript, parseTranscript, transcriptRecording } = await import('../transcript/read.js');
  const head = await readFile(path, 'utf8').catch(() => null);
  if (head !== null && looksLikeTranscript(head)) return transcriptRecording(parseTranscript(path, head));
  return loadRecording(path);
}
