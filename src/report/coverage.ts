import type { EngineState } from '../engine/state.js';
import { selectProbes } from '../engine/selectors.js';
import { basename } from 'node:path';

/**
 * What could not be checked, and what is only a fact about the logs. A log
 * that starts after the window's start (a new file, no older rotation) is
 * not a gap in coverage: nothing older was written. It is said once, as
 * "logs start at HH:MM", never as a partial reading.
 */
export interface Coverage {
  /** "error.log starts at 13:05" — one entry per distinct start, files sharing one named together. */
  logStarts: string[];
  notChecked: Array<{ probe: string; text: string; sudoHint?: string }>;
}

const STARTS_AFTER = /(?:^|; )(\S[^;]*?): the window starts before the oldest line found \(\d{4}\/\d\d\/\d\d (\d\d:\d\d):\d\d in [^;]*?; no older rotated file\): counts start there/g;

export function coverage(state: EngineState): Coverage {
  const starts = new Map<string, Set<string>>();
  const notChecked: Coverage['notChecked'] = [];
  for (const probe of selectProbes(state)) {
    let partial = probe.partial ?? '';
    for (const match of partial.matchAll(STARTS_AFTER)) {
      const files = starts.get(match[2]!) ?? new Set<string>();
      files.add(basename(match[1]!));
      starts.set(match[2]!, files);
    }
    partial = partial.replace(STARTS_AFTER, '').replace(/^; /, '').trim();
    // A gap often repeats a partial reading's problems: each said once.
    const gaps = (probe.gap ?? '').split('; ').filter((g) => g && !partial.includes(g) && !(probe.partial ?? '').includes(g));
    const parts = [partial, ...gaps].filter(Boolean);
    if (probe.status !== 'ok') notChecked.push({ probe: probe.id, text: `${probe.status}: ${probe.reason ?? ''}`.trim(), ...(probe.sudoHint ? { sudoHint: probe.sudoHint } : {}) });
    else if (parts.length) notChecked.push({ probe: probe.id, text: `partly: ${parts.join('; ')}`, ...(probe.sudoHint ? { sudoHint: probe.sudoHint } : {}) });
  }
  const logStarts = [...starts].map(([time, files]) => `${[...files].join(' and ')} start${files.size > 1 ? '' : 's'} at ${time}`);
  return { logStarts, notChecked: foldDependents(notChecked) };
}

/**
 * Probes that could not run because a probe they need did not ("needs
 * error-log, which did not run: <its reason>") are one line after it, not
 * its reason again and again.
 */
function foldDependents(list: Coverage['notChecked']): Coverage['notChecked'] {
  const out: Coverage['notChecked'] = [];
  const folded = new Map<string, string[]>();
  for (const item of list) {
    const needs = /^unavailable: needs ([\w-]+), which did not run\b/.exec(item.text)?.[1];
    if (needs && list.some((other) => other.probe === needs)) {
      if (!folded.has(needs)) {
        folded.set(needs, []);
        out.push({ probe: '', text: needs });
      }
      folded.get(needs)!.push(item.probe);
    } else out.push(item);
  }
  return out.map((item) => (item.probe === '' ? { probe: folded.get(item.text)!.join(', '), text: `unavailable: need ${item.text} (above)` } : item));
}
