#!/usr/bin/env node
import { HELP, parseCli, type CliArgs } from './cli/args.js';
import { UserError } from './util/userError.js';
import { NginxSyntaxError } from './nginx/syntaxError.js';

async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv);
  if (args.version) {
    const { versionLine } = await import('./version.js');
    process.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  if (args.help || args.command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  switch (args.command) {
    case 'fleet':
      return (await import('./fleet/command.js')).fleetCommand(args.positionals, args.json);
    case 'probe':
      return (await import('./cli/probeCommand.js')).probeCommand(args);
    case 'inspect':
      return (await import('./cli/inspect.js')).inspectCommand(args);
    case 'lint':
      return (await import('./cli/lintCommand.js')).lintCommand(args.positionals);
    case 'diagnose':
      if (args.positionals.length > 0) throw new UserError(`diagnose takes no arguments (got "${args.positionals[0]}")`);
      return runDiagnose(args, args.demo ?? null, 'diagnose');
    case 'demo':
      return runDemo(args);
    case 'watch':
      return (await import('./cli/watchCommand.js')).watchCommand(args);
    case 'wizard':
      return runWizardOrHeadless(args, args.demo ?? null);
    case 'changes':
      return (await import('./cli/changesCommand.js')).changesCommand(args);
    case 'rollback':
      return (await import('./cli/rollbackCommand.js')).rollbackCommand(args);
    case 'transcript':
      return (await import('./cli/transcriptCommand.js')).transcriptCommand(args);
    case 'resume':
      return (await import('./cli/resume.js')).resumeCommand(args);
  }
}

async function runDiagnose(args: CliArgs, demo: string | null, mode: 'diagnose' | 'demo' | 'wizard'): Promise<number> {
  // A change a killed run left half done is said first (a demo replays a recording and has no changes).
  if (!demo && !args.replay) await warnUnfinishedChanges(args);
  const { prepare } = await import('./cli/setup.js');
  const { diagnose } = await import('./cli/headless.js');
  return diagnose(await prepare(args, demo, mode), args);
}

async function runDemo(args: CliArgs): Promise<number> {
  const [name, extra] = args.positionals;
  if (extra !== undefined) throw new UserError(`demo takes one scenario name (got "${extra}")`);
  if (!name) {
    const { listScenarios } = await import('./demo/scenarios.js');
    process.stdout.write('Demo scenarios (recorded from a real nginx; run one with: reset-doctor demo NAME)\n');
    for (const s of await listScenarios()) process.stdout.write(`  ${s.name.padEnd(22)} ${s.description}\n`);
    return 0;
  }
  return runWizardOrHeadless(args, name);
}

async function runWizardOrHeadless(args: CliArgs, demo: string | null): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('reset-doctor: no terminal on stdin/stdout, so no wizard; running headless (as `reset-doctor diagnose`).\n');
    return runDiagnose(args, demo, demo ? 'demo' : 'diagnose');
  }
  if (!demo && !args.replay) {
    const { offerUnfinished } = await import('./cli/unfinishedPrompt.js');
    const { stateDir } = await import('./util/stateDir.js');
    await offerUnfinished(stateDir({ stateDir: args.apply.stateDir }));
  }
  const { prepare } = await import('./cli/setup.js');
  const prepared = await prepare(args, demo, demo ? 'demo' : 'wizard');
  const { runWizard } = await import('./ui/runWizard.js');
  return runWizard(prepared, { apply: { options: args.apply, nginxBinGiven: args.nginxBinGiven, answers: args.answers } });
}

async function warnUnfinishedChanges(args: CliArgs): Promise<void> {
  const { warnUnfinished } = await import('./cli/unfinished.js');
  const { RealHost } = await import('./host/realHost.js');
  const { stateDir } = await import('./util/stateDir.js');
  await warnUnfinished(new RealHost(), stateDir({ stateDir: args.apply.stateDir }));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UserError || error instanceof NginxSyntaxError) {
      process.stderr.write(`reset-doctor: ${error.message}\n`);
    } else {
      process.stderr.write(`reset-doctor: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exitCode = 2;
  },
);
