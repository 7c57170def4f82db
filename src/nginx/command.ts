import type { CommandSpec } from '../host/types.js';

/** How nginx is run: the binary and, with --nginx-conf / --nginx-prefix, the config and prefix it is asked about. */
export interface NginxInvocation {
  nginxBin: string;
  nginxConf?: string;
  nginxPrefix?: string;
}

/** `nginx FLAG [-c CONF]`: with --nginx-conf, nginx is asked about that config, not its compiled-in default. */
export function nginxCommand(options: NginxInvocation, flag: '-v' | '-V' | '-t' | '-T', timeoutMs: number): CommandSpec {
  return { file: options.nginxBin, args: nginxArgs(options, flag), timeoutMs };
}

/** -v/-V describe the binary; only -t/-T read a config, so only they take -c and -p. */
export function nginxArgs(options: Pick<NginxInvocation, 'nginxConf' | 'nginxPrefix'>, flag: '-v' | '-V' | '-t' | '-T'): string[] {
  if (flag === '-v' || flag === '-V') return [flag];
  return [flag, ...(options.nginxConf ? ['-c', options.nginxConf] : []), ...(options.nginxPrefix ? ['-p', options.nginxPrefix] : [])];
}

export const NGINX_PACKAGE_HINT = { nginx: 'nginx' };

export interface NginxLogLine {
  level: string;
  message: string;
}

/**
 * nginx's own messages on stderr: "nginx: [emerg] …" from -t, or the
 * timestamped "2026/11/21 08:51:04 [emerg] 2652#2652: …" once logging is up.
 */
export function nginxStderrLines(stderr: string): NginxLogLine[] {
  const lines: NginxLogLine[] = [];
  for (const raw of stderr.split('\n')) {
    const match = /^(?:nginx: |\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d )\[(\w+)\] (?:\d+#\d+: )?(.*)$/.exec(raw.trim());
    if (match) lines.push({ level: match[1]!, message: match[2]! });
  }
  return lines;
}
