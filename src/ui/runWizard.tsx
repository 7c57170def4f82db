import { render } from 'ink';
import type { Prepared } from '../session.js';
import { buildTextReport } from '../report/textReport.js';
import { App, QUIT_EARLY } from './App.js';
import type { ApplyContext } from './apply/ApplyFlow.js';
import type { ApplyRun } from '../apply/fromDiagnosis.js';
import { changesText } from '../apply/changesText.js';
import { closeTranscript, interruptTranscript } from '../transcript/session.js';
import { writeMarkdownBeside } from '../transcript/beside.js';
import { exitAfterHangup, watchTerminal } from './terminalLost.js';
import { writeChangesOfThisRun } from '../transcript/apply.js';
import { stateDir } from '../util/stateDir.js';

/** Owns the one exit of the interactive session: waits for the app, prints the report, returns the exit code. */
export async function runWizard(prepared: Prepared, options: { started?: boolean; apply?: Omit<ApplyContext, 'prepared'> | undefined } = {}): Promise<number> {
  const apply = options.apply;
  let code = QUIT_EARLY;
  const changes: ApplyRun[] = [];
  const info = prepared.host.info();
  const instance = render(
    <App
      session={prepared.session}
      flow={prepared.flow}
      host={info}
      demo={prepared.demo}
      onExit={(c) => {
        code = c;
      }}
      apply={apply && !prepared.demo ? { ...apply, prepared } : undefined}
      onChange={(run) => changes.push(run)}
    />,
    { exitOnCtrlC: false },
  );
  // A dropped link ends the session here: the transcript says so, and the process leaves without a crash.
  const startedAt = Date.now();
  const recordChanges = () => (prepared.demo || !prepared.transcript ? Promise.resolve() : writeChangesOfThisRun(prepared.transcript, stateDir({ stateDir: prepared.stateDir }), startedAt));
  const unwatch = watchTerminal((reason) => {
    void exitAfterHangup(reason, async () => {
      await recordChanges();
      interruptTranscript(prepared.transcript, prepared.session.getState(), reason);
    });
  });
  // `resume` has started the session and walked it on before the screen opens.
  if (!options.started) prepared.session.send({ type: 'start' });
  await instance.waitUntilExit();
  unwatch();
  instance.cleanup();
  await prepared.finish();
  const state = prepared.session.getState();
  const reportOptions = { nginx: prepared.options, sinceMs: prepared.options.sinceMs };
  process.stdout.write('\n' + buildTextReport(state, prepared.flow, info, reportOptions));
  // What the operator applied from the end screen, after the diagnosis it came from.
  for (const run of changes) process.stdout.write(changesText(run, null));
  await recordChanges();
  closeTranscript(prepared.transcript, state, info, code, reportOptions);
  await markdownBeside(prepared.transcript);
  return code;
}

/** Both paths at exit: the JSONL (the record, replayable) and its Markdown, ready for the ticket. */
async function markdownBeside(transcript: Prepared['transcript']): Promise<void> {
  if (!transcript) return;
  try {
    const md = await writeMarkdownBeside(transcript.path);
    process.stderr.write(`reset-doctor: for the ticket: ${md} (Markdown of ${transcript.path})\n`);
  } catch (error) {
    process.stderr.write(`reset-doctor: could not write the Markdown beside ${transcript.path}: ${(error as Error).message}\n`);
  }
}
