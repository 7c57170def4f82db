import { z } from 'zod';
import { formatCommand } from '../../src/host/types.js';
import { ProbeStatusError, defineProbe } from '../../src/probe/contract.js';
import { NGINX_PACKAGE_HINT, nginxCommand, nginxStderrLines } from '../../src/nginx/command.js';

/**
 * `nginx -t` writes to stderr and exits 0 or 1:
 *   nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
 *   nginx: configuration file /etc/nginx/nginx.conf test is successful
 * or, for a broken config:
 *   2026/11/21 08:51:04 [emerg] 2652#2652: unexpected "}" in /etc/nginx/nginx.conf:12
 *   nginx: configuration file /etc/nginx/nginx.conf test failed
 * Run without root, it usually fails on the pid file or a log it cannot open
 * ("(13: Permission denied)"): that is "denied", not a broken config.
 */
const message = z.object({
  level: z.string().describe('nginx log level: emerg, alert, crit, error, warn, notice'),
  message: z.string().describe('The message text'),
  file: z.string().nullable().describe('Config file the message points at, if any'),
  line: z.number().int().nullable().describe('Line in that file, if any'),
});

export const nginxTestProbe = defineProbe({
  id: 'nginx-test',
  title: 'nginx config test',
  description: 'Whether nginx accepts its configuration (nginx -t), and what it complains about.',
  requiresRoot: 'partial',
  rootNote: 'without root nginx -t cannot open the pid file and logs, so it reports failure for a config that may be fine',
  timeoutMs: 15000,
  packageHint: NGINX_PACKAGE_HINT,
  facts: z.object({
    ok: z.boolean().describe('nginx -t exited 0: syntax ok and test successful'),
    syntaxOk: z.boolean().describe('nginx printed "syntax is ok"'),
    configFile: z.string().nullable().describe('The config file nginx tested'),
    errors: z.array(message).describe('emerg/alert/crit/error lines'),
    warnings: z.array(message).describe('warn/notice lines'),
  }),
  sources: ({ options }) => [{ id: 'test', kind: 'command', command: nginxCommand(options, '-t', 15000) }],
  parse: (results, { host }) => {
    const { command, result } = results.command('test');
    const lines = nginxStderrLines(result.stderr).map((line) => {
      const at = /\bin (\/\S+):(\d+)$/.exec(line.message);
      return { ...line, file: at ? at[1]! : null, line: at ? Number(at[2]) : null };
    });
    const errors = lines.filter((l) => ['emerg', 'alert', 'crit', 'error'].includes(l.level));
    const configFile = /configuration file (\S+) (?:syntax|test)/.exec(result.stderr)?.[1] ?? null;
    const ok = result.exitCode === 0;
    // As a user, nginx -t stops at the first file it may not read: a log file ("(13: Permission denied)") or a TLS key,
    // which OpenSSL reports in its own words ("BIO_new_file() failed (SSL: … Permission denied …)"). Only the last
    // error decides: the ones before it are alerts nginx goes on after.
    const denied = (message: string) => /[Pp]ermission denied/.test(message);
    if (!ok && host.uid !== 0 && errors.length > 0 && denied(errors.at(-1)!.message)) {
      throw new ProbeStatusError('denied', `needs root: ${errors[0]!.message}`, `sudo ${formatCommand(command)}`);
    }
    if (!ok && errors.length === 0 && !/test failed/.test(result.stderr)) {
      throw new ProbeStatusError('error', `nginx -t exited ${result.exitCode} without saying why: ${result.stderr.trim().slice(0, 200)}`);
    }
    return {
      ok,
      syntaxOk: /syntax is ok/.test(result.stderr),
      configFile,
      errors,
      warnings: lines.filter((l) => !errors.includes(l)),
    };
  },
  summarize: (facts) =>
    facts.ok
      ? `config test successful${facts.warnings.length ? `, ${facts.warnings.length} warning(s)` : ''}`
      : `config test FAILED: ${facts.errors[0]?.message ?? 'see nginx -t'}`,
});
