import { render } from 'ink';
import type { Prepared } from '../session.js';
import { buildTextReport } from '../report/textReport.js';
import { App, QUIT_EARLY } from './App.js';
import type { ApplyContext } from './apply/ApplyFlow.js';
import type { ApplyRun } from '../apply/fromDiagnosis.js';
import { changesText } from '../apply/changesText.js';

/** Owns the one exit of the interactive session: waits for the app, prints the report, returns the exit code. */
export async function runWizard(prepared: Prepared, apply?: Omit<ApplyContext, 'prepared'>): Promise<number> {
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
  prepared.session.send({ type: 'start' });
  await instance.waitUntilExit();
  instance.cleanup();
  await prepared.finish();
  process.stdout.write('\n' + buildTextReport(prepared.session.getState(), prepared.flow, info, { nginx: prepared.options, sinceMs: prepared.options.sinceMs }));
  // What the operator applied from the end screen, after the diagnosis it came from.
  for (const run of changes) process.stdout.write(changesText(run, null));
  return code;
}
