import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_DIR } from '../packageRoot.js';
import { loadRecording } from '../host/recordingFile.js';
import type { Recording } from '../host/recording.js';
import type { ProbeOptions } from '../probe/contract.js';
import { UserError } from '../util/userError.js';

/** Demo scenarios are recordings of real sessions on a real nginx, shipped in src/demo/recordings/NAME.json. */
export async function listScenarios(): Promise<Array<{ name: string; description: string }>> {
  const files = (await readdir(DEMO_DIR)).filter((f) => f.endsWith('.json')).sort();
  const scenarios = [];
  for (const file of files) {
    const recording = await loadRecording(join(DEMO_DIR, file));
    scenarios.push({ name: file.replace(/\.json$/, ''), description: recording.description ?? '' });
  }
  return scenarios;
}

export async function loadScenario(name: string): Promise<Recording> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new UserError(`demo "${name}": names are lower-case words joined by "-"`);
  const names = (await listScenarios()).map((s) => s.name);
  if (!names.includes(name)) throw new UserError(`no demo "${name}" (demos: ${names.join(', ')})`);
  return loadRecording(join(DEMO_DIR, `${name}.json`));
}

/** The probe options the scenario was recorded with, so the replay asks for the same commands. */
export function scenarioOptions(recording: Recording): ProbeOptions {
  const recorded = recording.options as Partial<ProbeOptions>;
  const options: ProbeOptions = {
    nginxBin: recorded.nginxBin ?? 'nginx',
    errorLogs: recorded.errorLogs ?? [],
    sinceMs: recorded.sinceMs ?? 3_600_000,
  };
  if (recorded.nginxConf) options.nginxConf = recorded.nginxConf;
  if (recorded.nginxPrefix) options.nginxPrefix = recorded.nginxPrefix;
  return options;
}
