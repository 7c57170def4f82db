import { RealHost } from '../host/realHost.js';
import { RecordedHost } from '../host/recordedHost.js';
import { loadRecording } from '../host/recordingFile.js';
import type { Host } from '../host/types.js';
import { adviseConfig } from '../nginx/advice.js';
import { discoverConfig, errorLogFiles } from '../nginx/discover.js';
import { analyzeErrorLogs } from '../errorlog/reader.js';
import { accessText, configText, errorsText } from '../report/inspectText.js';
import { analyzeAccessLog } from '../accesslog/analyze.js';
import { progressWanted, showReadProgress } from '../logs/progress.js';
import { UserError } from '../util/userError.js';
import type { CliArgs } from './args.js';
import { findNginxBinary } from './nginxBinary.js';
import { checkNginxConf } from './nginxConf.js';

/** `reset-doctor inspect config|errors`: the nginx model and the error-log analysis on their own. */
export async function inspectCommand(args: CliArgs): Promise<number> {
  const [what, extra] = args.positionals;
  if (extra !== undefined) throw new UserError(`inspect ${what} takes no further arguments (got "${extra}")`);
  const host: Host = args.replay ? new RecordedHost(await loadRecording(args.replay)) : new RealHost();
  if (!args.replay) await checkNginxConf(host, args.probeOptions.nginxConf);
  const nginxBin = args.nginxBinGiven || args.replay ? args.probeOptions.nginxBin : await findNginxBinary(host);
  const options = { nginxBin, nginxConf: args.probeOptions.nginxConf, nginxPrefix: args.probeOptions.nginxPrefix };
  switch (what) {
    case 'config': {
      const found = await discoverConfig(host, options);
      const advice = adviseConfig(found.model);
      if (args.json) process.stdout.write(JSON.stringify({ ...found.model, advice, notes: found.notes, commands: found.commands }, null, 2) + '\n');
      else process.stdout.write(configText(found.model, advice, found.notes, found.commands));
      return 0;
    }
    case 'errors': {
      let paths = args.probeOptions.errorLogs;
      const notes: string[] = [];
      let accessLogs: Array<{ path: string; format: string; formatText: string }> = [];
      if (paths.length === 0 || args.probeOptions.nginxConf) {
        // Only the log paths are needed, and the files give them even when nginx rejects the config.
        const found = await discoverConfig(host, { ...options, readRejected: true });
        notes.push(...found.notes);
        if (paths.length === 0) paths = errorLogFiles(found.model);
        accessLogs = found.model.accessLogs.filter((a) => a.hasStatus);
        if (paths.length === 0) throw new UserError('the config logs errors only to stderr/syslog/memory: give the file with --error-log PATH');
      }
      const toMs = host.now();
      if (progressWanted()) showReadProgress(process.stderr);
      const window = { fromMs: args.sinceGiven ? toMs - args.probeOptions.sinceMs : null, toMs };
      const report = await analyzeErrorLogs(host, paths, window);
      if (report.files.length === 0) throw new UserError(report.problems.join('; ') || 'no error log could be read');
      const access = [];
      for (const log of accessLogs) access.push(await analyzeAccessLog(host, log.path, log.format, log.formatText, window));
      if (args.json) process.stdout.write(JSON.stringify({ ...report, access, notes }, null, 2) + '\n');
      else process.stdout.write(errorsText(report) + access.map(accessText).join('') + notes.map((n) => `note: ${n}\n`).join(''));
      return 0;
    }
    default:
      throw new UserError(`inspect what? "reset-doctor inspect config" or "reset-doctor inspect errors"${what ? ` (got "${what}")` : ''}`);
  }
}
