import type { Recording } from '../../src/host/recording.js';

const LAB_PROCESS = /nginx|node|reset-doctor|^\[kthreadd\]$/;

/**
 * ps is trimmed to the lab's processes, and dmesg to the lines inside the
 * scenario's window (the probes read no others), so nothing of the
 * recording machine beyond the lab ships in the repo.
 */
export function trimProcesses(recording: Recording): Recording {
  const from = recording.startedAtMs - Number(recording.options['sinceMs'] ?? 0);
  for (const entry of recording.entries) {
    if (entry.kind !== 'command') continue;
    if (entry.file === 'ps') {
      entry.stdout = entry.stdout
        .split('\n')
        .filter((line) => LAB_PROCESS.test(line.slice(88)) && !/--env\b/.test(line))
        .join('\n');
    }
    if (entry.file === 'dmesg') {
      entry.stdout = entry.stdout
        .split('\n')
        .filter((line) => {
          const at = Date.parse(line.slice(0, 32).replace(',', '.').replace(/(\.\d{3})\d*/, '$1'));
          return !Number.isNaN(at) && at >= from;
        })
        .join('\n');
    }
  }
  return recording;
}
