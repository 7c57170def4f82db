import { UserError } from '../util/userError.js';

/**
 * php-fpm's config format (php-fpm.conf and pool.d/*.conf): the INI syntax of
 * PHP's own parser, as fpm_conf.c reads it. `[name]` opens a section
 * (`[global]`, or a pool); `key = value` sets a directive; `;` starts a
 * comment (outside quotes); values may be quoted; keys may carry an index
 * (`env[TMP]`, `php_admin_value[error_log]`). Directives before any section
 * belong to [global], as in fpm_conf.c.
 */
export interface IniEntry {
  key: string;
  value: string;
  line: number;
}

export interface IniSection {
  /** Section name; "global" also for directives before the first section. */
  name: string;
  line: number;
  entries: IniEntry[];
}

export interface IniFile {
  file: string;
  sections: IniSection[];
}

/** A config line php-fpm would reject too: named by file and line, shown as one line (exit 2). */
export class FpmConfigError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
  }
}

const SECTION = /^\[([^\]]*)\]\s*(?:;.*)?$/;
const KEY = /^([A-Za-z0-9_.\-]+(?:\[[^\]]*\])?)\s*=\s*(.*)$/;

export function parseFpmIni(text: string, file: string): IniFile {
  const global: IniSection = { name: 'global', line: 0, entries: [] };
  const sections: IniSection[] = [global];
  let current = global;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;
    if (trimmed.startsWith('[')) {
      const section = SECTION.exec(trimmed);
      if (!section) throw new FpmConfigError(file, line, `unterminated section header "${trimmed.slice(0, 60)}"`);
      const name = section[1]!.trim();
      if (name === '') throw new FpmConfigError(file, line, 'empty section name "[]"');
      current = { name, line, entries: [] };
      sections.push(current);
      return;
    }
    const entry = KEY.exec(trimmed);
    if (!entry) throw new FpmConfigError(file, line, `expected "key = value", found "${trimmed.slice(0, 60)}"`);
    current.entries.push({ key: entry[1]!, value: parseValue(entry[2]!, file, line), line });
  });
  return { file, sections: sections.filter((s) => s !== global || s.entries.length > 0) };
}

/** A value: bare (up to a comment), or quoted ("…" or '…'), trailing comment allowed. */
function parseValue(text: string, file: string, line: number): string {
  const value = text.trim();
  const quote = value[0];
  if (quote === '"' || quote === "'") {
    const end = value.indexOf(quote, 1);
    if (end < 0) throw new FpmConfigError(file, line, `unterminated ${quote === '"' ? 'double' : 'single'} quote in ${value.slice(0, 60)}`);
    const rest = value.slice(end + 1).trim();
    if (rest !== '' && !rest.startsWith(';')) throw new FpmConfigError(file, line, `unexpected "${rest.slice(0, 30)}" after the quoted value`);
    return value.slice(1, end);
  }
  const comment = value.indexOf(';');
  return (comment >= 0 ? value.slice(0, comment) : value).trim();
}

/** php-fpm time values: a number with an optional s/m/h/d suffix (fpm_conf_set_time); seconds, or null when malformed. */
export function parseFpmSeconds(value: string): number | null {
  const m = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m) return null;
  const factor = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * factor;
}
