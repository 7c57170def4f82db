import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session.js';
import { RecordedHost } from '../../src/host/recordedHost.js';
import { loadScenario, scenarioOptions } from '../../src/demo/scenarios.js';
import { resolveFlow } from '../../src/flow/resolve.js';
import { runHeadless } from '../../src/cli/headless.js';
import { PROBES } from '../../probes/index.js';
import { buildTextReport, REPORT_MAX_LINES } from '../../src/report/textReport.js';
import { buildJsonReport } from '../../src/report/jsonReport.js';
import { exitCodeFor } from '../../src/report/exitCode.js';
import { rankFindings } from '../../src/report/ranking.js';
import { coverage } from '../../src/report/coverage.js';
import { evidenceLine } from '../../src/report/evidenceText.js';
import { exactSteps, hostValues } from '../../src/report/exactFix.js';
import { initialState, type EngineState, type Finding } from '../../src/engine/state.js';
import type { ProbeOutcome } from '../../src/probe/contract.js';

/** A demo (recorded on a real nginx) walked headless: the state every report is built from. */
async function demo(name: string) {
  const recording = await loadScenario(name);
  const host = new RecordedHost(recording);
  const flow = await resolveFlow('reset-by-peer');
  const options = scenarioOptions(recording);
  const session = new Session({ flow, host, options, registry: PROBES });
  const state = await runHeadless(session, flow, new Map());
  await session.settle();
  return { state, flow, info: host.info(), options };
}

describe('the text report, as an on-call reads it', () => {
  it('opens with what users got and the top cause, fits 60 lines, and writes fixes for this nginx', async () => {
    const { state, flow, info, options } = await demo('backend-down');
    const text = buildTextReport(state, flow, info, { nginx: options, sinceMs: options.sinceMs });
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(REPORT_MAX_LINES);
    const head = lines.slice(0, 8).join('\n');
    expect(head).toContain('Impact: clients got 1 error(s): 1 × 502, 0 × 504 of 1 request(s)');
    expect(head).toContain('Top cause: backend-down (confirmed) — explains 1 of 1 upstream error(s) (100%)');
    // A log younger than the window is said once, as where it starts, not as a partial reading.
    expect(text).toMatch(/error\.log and access\.log start at \d\d:\d\d/);
    expect(text).not.toMatch(/partial|the window starts before/);
    // Evidence in words, never the internal structure; probe commands and the path only with --verbose.
    expect(text).not.toMatch(/\[\[|\{address:/);
    expect(text).not.toContain('Path: ');
    expect(text).not.toContain('$ ');
    expect(text).toContain('Ruled out: backend-oom, ');
    // The error_log path is the config's, not a sample path.
    expect(text).toContain(`\`tail -f ${options.nginxConf!.replace(/nginx\.conf$/, 'error.log')}\``);

    const verbose = buildTextReport(state, flow, info, { nginx: options, verbose: true });
    expect(verbose).toContain('Path: look → ');
    expect(verbose).toContain(`$ ${options.nginxBin} -t -c ${options.nginxConf}`);
    expect(verbose).toContain('Make the backend listen where nginx connects');
    expect(verbose.split('\n').length).toBeGreaterThan(lines.length);
  });

  it('a healthy run says nothing was found and exits 0', async () => {
    const { state, flow, info, options } = await demo('healthy');
    const text = buildTextReport(state, flow, info, { nginx: options });
    expect(text.split('\n').slice(0, 8).join('\n')).toContain('Impact: clients got 0 error(s)');
    expect(text).toContain('Top cause: none found');
    expect(text).toContain('Exit 0: ');
    expect(exitCodeFor(state)).toBe(0);
  });

  it('JSON carries the impact, each finding\'s kind and what it explains, ranked, and the raw evidence', async () => {
    const { state, info, options } = await demo('backend-down');
    const report = buildJsonReport(state, info, { nginx: options });
    expect(report.impact).toMatchObject({ source: 'access-log', clientErrors: 1, status502: 1, status504: 0, upstreamErrors: 1, stillHappening: true, routes: [{ route: '/', status502: 1 }] });
    expect(report.impact.upstreams).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ id: 'backend-down', status: 'confirmed', kind: 'cause', explains: { errors: 1, share: 1 } });
    expect(report.findings[0]!.evidence[0]).toMatchObject({ probe: 'backend-listeners', fact: 'down[*].address', value: [expect.stringMatching(/^127\.0\.0\.1:\d+$/)] });
    expect(report.findings.at(-1)!.status).toBe('ruled-out');
  });
});

/** A state that recorded these findings, for the pure parts (kinds, exit codes). */
function withFindings(findings: Array<Pick<Finding, 'id' | 'status'>>, probes: Record<string, ProbeOutcome> = {}): EngineState {
  return {
    ...initialState('reset-by-peer'),
    status: 'finished',
    probes,
    path: findings.map((f, i) => ({ node: `n${i}`, enteredAt: 0, outcome: { kind: 'diagnose' as const, finding: { ...f, summary: f.id, evidence: [], node: `n${i}` } } })),
  };
}

const errorLog = (signatures: Array<{ id: string; count: number; peer: string }>): Record<string, ProbeOutcome> => ({
  'error-log': {
    id: 'error-log',
    status: 'ok',
    summary: '',
    commands: [],
    startedAt: 0,
    durationMs: 0,
    facts: {
      window: { from: '2026/12/01 13:00:00', to: '2026/12/01 13:10:00' },
      perMinute: [],
      signatures: signatures.map((s) => ({ id: s.id, count: s.count, firstSeen: '2026/12/01 13:01:00', lastSeen: '2026/12/01 13:02:00', upstreams: { [s.peer]: s.count }, methods: {}, routes: { '/': s.count } })),
    },
  },
});

describe('kinds and exit codes', () => {
  it('hygiene alone exits 0 and is listed; a latent risk exits 1; an unknown exits 1', () => {
    const hygiene = withFindings([{ id: 'no-upstream-logging', status: 'confirmed' }, { id: 'keepalive-inert', status: 'confirmed' }, { id: 'backend-down', status: 'ruled-out' }]);
    expect(exitCodeFor(hygiene)).toBe(0);
    expect(rankFindings(hygiene).hygiene.map((r) => r.finding.id)).toEqual(['no-upstream-logging', 'keepalive-inert']);
    expect(exitCodeFor(withFindings([{ id: 'no-upstream-logging', status: 'confirmed' }, { id: 'retry-double-submit', status: 'confirmed' }]))).toBe(1);
    expect(exitCodeFor(withFindings([{ id: 'no-upstream-logging', status: 'confirmed' }, { id: 'keepalive-mismatch', status: 'unknown' }]))).toBe(1);
  });

  it('a cause that explains none of the window\'s errors is a latent risk, ranked below the one that does', () => {
    const state = withFindings(
      [
        { id: 'keepalive-mismatch', status: 'confirmed' },
        { id: 'upstream-timeout', status: 'confirmed' },
      ],
      errorLog([{ id: 'timeout-read', count: 4, peer: '127.0.0.1:8081' }]),
    );
    const ranked = rankFindings(state);
    expect(ranked.causes.map((r) => [r.finding.id, r.explains])).toEqual([['upstream-timeout', { errors: 4, share: 1 }]]);
    expect(ranked.risks.map((r) => [r.finding.id, r.kind])).toEqual([['keepalive-mismatch', 'risk']]);
    expect(exitCodeFor(state)).toBe(1);
  });

  it('a backend down now stays a cause even with no error in the window, but ranks below what explains the errors', () => {
    const state = withFindings(
      [
        { id: 'backend-down', status: 'confirmed' },
        { id: 'buffer-too-small', status: 'confirmed' },
      ],
      errorLog([{ id: 'too-big-header', count: 4, peer: '127.0.0.1:8081' }]),
    );
    expect(rankFindings(state).causes.map((r) => [r.finding.id, r.explains.errors])).toEqual([
      ['buffer-too-small', 4],
      ['backend-down', 0],
    ]);
  });
});

describe('report helpers', () => {
  it('a log younger than the window is where it starts, not a gap; a real gap is still said', () => {
    const state = {
      ...initialState('f'),
      probes: {
        'error-log': { id: 'error-log', status: 'ok', summary: '', commands: [], startedAt: 0, durationMs: 0, partial: '/var/log/nginx/error.log: the window starts before the oldest line found (2026/12/01 13:05:09 in /var/log/nginx/error.log; no older rotated file): counts start there; error.log.2.xz: compressed as xz, not read' },
      },
    } as EngineState;
    expect(coverage(state)).toEqual({ logStarts: ['error.log starts at 13:05'], notChecked: [{ probe: 'error-log', text: 'partly: error.log.2.xz: compressed as xz, not read' }] });
  });

  it('probes that could not run for want of another are one line after it, not its reason again', () => {
    const outcome = (id: string, reason: string) => ({ id, status: 'unavailable', reason, summary: '', commands: [], startedAt: 0, durationMs: 0 });
    const why = 'error_log /x/error.log crit at /x/nginx.conf:6: nginx logs upstream failures at "error"';
    const state = { ...initialState('f'), probes: { 'error-log': outcome('error-log', why), 'reset-attribution': outcome('reset-attribution', `needs error-log, which did not run: ${why}`), timeline: outcome('timeline', `needs error-log, which did not run: ${why}`) } } as unknown as EngineState;
    expect(coverage(state).notChecked).toEqual([
      { probe: 'error-log', text: `unavailable: ${why}` },
      { probe: 'reset-attribution, timeline', text: 'unavailable: need error-log (above)' },
    ]);
  });

  it('evidence reads as words', () => {
    expect(evidenceLine({ probe: 'keepalive-analysis', fact: 'mismatches[*].servers', value: [[{ address: '127.0.0.1:8081', backendIdleSec: 1, source: 'measured', mismatch: true, atLeast: false, note: null }]] })).toBe('servers: 127.0.0.1:8081 — backend idle (s) 1, source measured, mismatch');
    expect(evidenceLine({ probe: 'keepalive-analysis', fact: 'mismatches[*].keepaliveTimeoutSec', value: [60] })).toBe('keepalive timeout (s): 60');
    expect(evidenceLine({ probe: 'backend-listeners', fact: 'down[*].address', value: null })).toBe('address: not known');
  });

  it('fix commands name this run\'s nginx with -c and -p, and the config\'s own log paths with the directive\'s file:line', () => {
    const state = {
      ...initialState('f'),
      probes: {
        'nginx-config': {
          id: 'nginx-config',
          status: 'ok',
          summary: '',
          commands: [],
          startedAt: 0,
          durationMs: 0,
          facts: { errorLogs: [{ path: '/srv/app/logs/error.log', file: '/srv/app/nginx.conf', line: 3 }], accessLogs: [{ path: '/srv/app/logs/access.log', file: '/srv/app/nginx.conf', line: 20, hasUpstreamStatus: false }] },
        },
      },
    } as EngineState;
    const values = hostValues(state, { nginxBin: '/opt/nginx/sbin/nginx', nginxConf: '/srv/app/nginx.conf', nginxPrefix: '/srv/app/' });
    expect(exactSteps(['Then `nginx -t && nginx -s reload`.', 'Watch: `tail -f /var/log/nginx/error.log` (the error_log of the nginx config).', 'Use it: `access_log /var/log/nginx/access.log upstreamlog;`.'], values)).toEqual([
      'Then `/opt/nginx/sbin/nginx -t -c /srv/app/nginx.conf -p /srv/app/ && /opt/nginx/sbin/nginx -s reload -c /srv/app/nginx.conf -p /srv/app/`.',
      'Watch: `tail -f /srv/app/logs/error.log` (the error_log of the nginx config).',
      'Use it: `access_log /srv/app/logs/access.log upstreamlog;` in place of the access_log at /srv/app/nginx.conf:20.',
    ]);
  });
});
