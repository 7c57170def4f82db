import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/jsonReport.js';
import { REPORT_MAX_LINES } from '../../src/report/textReport.js';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { runCli } from '../support/cli.js';
import { createLab, findNginx, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';
import { expectedExit, missingFor, SCENARIOS, type Running, type Scenario } from './scenarios.js';

const nginx = findNginx();
const GOLDEN = join(PACKAGE_ROOT, 'test', 'lab', 'golden');
const labs: Lab[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(labs.map((lab) => lab.cleanup()));
});

interface Outcome {
  code: number | null;
  report: JsonReport;
  text: string;
  running: Running;
}

async function run(scenario: Scenario): Promise<Outcome> {
  const lab = await createLab(`lab-${scenario.name}`);
  labs.push(lab);
  const running = await scenario.setup(lab, children);
  await scenario.traffic?.(running.port, running);
  const stop = scenario.during?.(running);
  const transcript = join(lab.dir, 'session.jsonl');
  const args = ['diagnose', '--since', '10m', '--nginx-bin', nginx!, '--nginx-conf', running.conf, '--record', join(lab.dir, 'session.json'), '--transcript', transcript, ...(scenario.args?.(running) ?? [])];
  try {
    const json = await runCli([...args, '--json'], { timeoutMs: 120_000 });
    await checkTranscript(transcript, JSON.parse(json.stdout) as JsonReport);
    // The text report of the same session, replayed: what an operator pastes into the ticket.
    const text = await runCli(['diagnose', '--replay', join(lab.dir, 'session.json')]);
    return { code: json.code, report: JSON.parse(json.stdout) as JsonReport, text: text.stdout, running };
  } finally {
    await stop?.();
  }
}

/** Every case's transcript renders in each format, with the findings the report has, by id and status, before its timeline. */
async function checkTranscript(path: string, report: JsonReport): Promise<void> {
  const [md, json, html] = await Promise.all(['md', 'json', 'html'].map((format) => runCli(['transcript', path, '--format', format])));
  expect([md!.code, json!.code, html!.code], `${path}: ${md!.stderr}${json!.stderr}${html!.stderr}`).toEqual([0, 0, 0]);
  const summary = md!.stdout.slice(0, md!.stdout.indexOf('## Timeline'));
  for (const f of report.findings) expect(summary).toContain(`\`${f.id}\` ${f.status}`);
  expect((JSON.parse(json!.stdout) as JsonReport).findings).toEqual(report.findings);
  expect(html!.stdout).toContain('<svg');
}

/** Ports, pids, paths, times and durations change every run; the words do not. */
function normalize(text: string, running: Running, lab: string): string {
  return text
    .replaceAll(lab, '<lab>')
    .replace(/\/tmp\/reset-doctor-lab-[\w-]+/g, '<lab>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/tcp port \d+/g, 'tcp port <port>')
    // Evidence is cut at a fixed length, so a measured number's width moves the cut inside a note.
    .replace(/note: "[^"…]*…/g, 'note: "<note>…')
    .replace(/\bpid \d+/g, 'pid <pid>')
    .replace(/\bpid: \d+/g, 'pid: <pid>')
    .replace(/\b\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\b/g, '<time>')
    // The report's window and impact lines name minutes: "Window 2026/12/01 13:02 → 13:12", "since 13:05, last at 13:11".
    .replace(/\b\d{4}\/\d\d\/\d\d \d\d:\d\d\b/g, '<time>')
    .replace(/(\bsince|\bat|→) \d\d:\d\d\b/g, '$1 <hh:mm>')
    .replace(/backend idle \(s\) [\d.]+/g, 'backend idle (s) <n>')
    .replace(/overflows per second: [\d.]+/g, 'overflows per second: <n>')
    .replace(/\b\d{4}-\d\d-\d\dT[\d:.]+Z\b/g, '<time>')
    .replace(/\(\d+ ms\)/g, '(<ms>)')
    .replace(/(sample|over) [\d.]+ s\b/g, '$1 <n> s')
    .replace(/\d+\.\d+ s\b/g, '<s> s')
    .replace(/ListenOverflows [\d.]+\/s/g, 'ListenOverflows <n>/s')
    .replace(/during (a|the) (?:<s>|[\d.]+) s sample/g, 'during $1 <n> s sample')
    .replace(/\d+ OOM kill\(s\) on the machine, read from \w+/g, '<n> OOM kill(s) on the machine, read from <kernel log>')
    .replace(/oom-kills (count|source) = .*$/gm, 'oom-kills $1 = <machine>')
    // The kernel log is machine-wide: the OOM scenario's kill shows in every scenario that runs beside it.
    .replace(/^(  ✔ oom-kills +).*$/gm, '$1<machine>')
    .replace(/oom-lab-\d+ \d+/g, 'oom-lab-<port> <pid>')
    .replace(/reset-doctor-lab-oom-\d+/g, 'reset-doctor-lab-oom-<pid>')
    .replace(/[\d.]+ MB anon RSS/g, '<n> MB anon RSS')
    .replace(/, [\d.]+ MB in cgroup/g, ', <n> MB in cgroup')
    .replace(/\(listed with [\w ]+(?: \([^()]*\))?\)/g, '(<firewall tools>)')
    .replace(/firewall rulesSource = .*$/gm, 'firewall rulesSource = <firewall tools>')
    .replace(/\d+ of \d+ entries in use/g, '<n> of <n> entries in use')
    .replace(/firewall conntrack(Count|Max) = \d+/g, 'firewall conntrack$1 = <n>')
    .replace(/sampleSec: [\d.]+/g, 'sampleSec: <n>')
    .replace(/backendIdleSec: [\d.]+/g, 'backendIdleSec: <n>')
    .replace(/overflowsPerSec = [\d.]+/g, 'overflowsPerSec = <n>')
    .replace(/\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\]/g, '[<time>] [<pid>]')
    .replace(/\(pid:\d+\)/g, '(pid:<pid>)')
    .replace(/host \S+/, 'host <host>')
    .replace(/"\d+"/g, '"<n>"')
    .replace(/= \d{5,}/g, '= <n>')
    .replace(/\d+ processes/g, '<n> processes')
    .replace(/\d+ of \d+ MB available.*$/gm, '<resources>')
    .replace(/\d+ TCP listener\(s\), \d+ unix socket listener\(s\)/g, '<n> TCP listener(s), <n> unix socket listener(s)')
    .replace(/\d+ address\(es\)/g, '<n> address(es)')
    .replace(/^.*\$ .*$/gm, (line) => line.replace(/\d{4,}/g, '<n>'))
    .replace(/, [\d.]+ MB$/gm, ', <n> MB')
    // SYN flood warnings for other listeners (healthy-beside-syn-flood's) land in some windows and not others.
    .replace(/, no SYN flood warnings for a backend \(\d+ for other listeners: [^)]*\)/g, ', no SYN flood warnings')
    .replace(/; \d+ SYN flood warning\(s\) for other listeners/g, '')
    // Other scenarios' OOM kills land in some windows and not others.
    .replace(/^  \d+ OOM kill\(s\) of other processes.*\n/gm, '')
    .replace(/oom-lab-\d+/g, 'oom-lab-<port>')
    .replace(/master \d+ with/g, 'master <pid> with')
    // php-fpm children's memory against MemAvailable: the machine's, not the scenario's.
    .replace(/use up to \d+ MB each and \d+ MB is available: room for \d+ more \(\d+ MB × 0\.8((?: \/ \d+ pools sized together)?) \/ \d+ MB\), so pm\.max_children = \d+/g, 'use up to <n> MB each and <n> MB is available: room for <n> more (<n> MB × 0.8$1 / <n> MB), so pm.max_children = <n>')
    // When php-fpm logged each kill.
    .replace(/\bat \d\d-\w{3}-(?:<n>|\d{4}) \d\d:\d\d:\d\d/g, 'at <fpm time>')
    .replace(/--ppid \d+/g, '--ppid <pid>')
    // Start times are whole seconds from ps: events within a second or two may swap, so the section is compared as a set.
    .replace(/(What changed[^\n]*\n)((?:  .*\n)+)/, (_all, head: string, body: string) => head + body.split('\n').filter(Boolean).sort().join('\n') + '\n');
}

function check(scenario: Scenario, outcome: Outcome): void {
  const confirmed = outcome.report.findings.filter((f) => f.status === 'confirmed').map((f) => f.id);
  const context = `${scenario.name}:\n${outcome.text}`;
  expect(confirmed.sort(), context).toEqual([...scenario.confirmed].sort());
  const suspected = outcome.report.findings.filter((f) => f.status === 'suspected').map((f) => f.id);
  expect(suspected.sort(), context).toEqual([...(scenario.suspected ?? [])].sort());
  // Unknowns the scenario names must be there; 'unexamined-errors' only where the scenario makes such errors.
  const unknown = outcome.report.findings.filter((f) => f.status === 'unknown').map((f) => f.id);
  for (const id of scenario.unknown ?? []) expect(unknown, context).toContain(id);
  expect(unknown.includes('unexamined-errors'), context).toBe((scenario.unknown ?? []).includes('unexamined-errors'));
  expect(outcome.report.status, context).toBe('finished');
  for (const [finding, mentions] of Object.entries(scenario.summaryMentions ?? {})) {
    const summary = outcome.report.findings.find((f) => f.id === finding)!.summary;
    for (const mention of mentions(outcome.running)) expect(summary, context).toContain(mention);
  }
  for (const [finding, mentions] of Object.entries(scenario.fixMentions ?? {})) {
    const steps = outcome.report.fixes.filter((f) => f.finding === finding).flatMap((f) => f.steps).join('\n');
    for (const mention of mentions) expect(steps, context).toContain(mention);
  }
  for (const word of scenario.absent ?? []) expect(outcome.text, context).not.toContain(word);
  const named = [...scenario.confirmed, ...(scenario.suspected ?? []), ...(scenario.unknown ?? [])];
  if (named.length === 0) expect(outcome.report.findings.filter((f) => f.status !== 'ruled-out'), context).toEqual([]);
  // Hygiene alone (logging, keep-alive configured but not in effect) exits 0; a cause, a latent risk or an unknown exits 1.
  expect(outcome.code, context).toBe(expectedExit(scenario));
  checkReadable(outcome, context);
  // Golden text reports: UPDATE_GOLDEN=1 writes them, for review in the diff like any code.
  const lab = labs.find((l) => outcome.running.conf.startsWith(l.dir))!.dir;
  const text = normalize(outcome.text, outcome.running, lab);
  const file = join(GOLDEN, `${scenario.name}.txt`);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) {
    if (process.env['CI'] === 'true') throw new Error(`golden report ${file} is missing: run the lab with UPDATE_GOLDEN=1 and commit it`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
  }
  const golden = readFileSync(file, 'utf8');
  // Leave what this run produced beside the golden file, for a diff.
  if (text !== golden) writeFileSync(`${file}.actual`, text);
  expect(text, `golden report ${file} (diff it with ${file}.actual; re-run with UPDATE_GOLDEN=1 to accept a change)`).toBe(golden);
}


/**
 * The report as an on-call reads it at 3 a.m.: its first 8 lines say how many
 * errors users got and the top cause (or that none was found), and the whole
 * of it fits in 60 lines without --verbose.
 */
function checkReadable(outcome: Outcome, context: string): void {
  const lines = outcome.text.trimEnd().split('\n');
  expect(lines.length, `${context}\nthe report runs ${lines.length} lines`).toBeLessThanOrEqual(REPORT_MAX_LINES);
  const head = lines.slice(0, 8).join('\n');
  const { impact } = outcome.report;
  expect(impact.clientErrors, context).not.toBeNull();
  expect(head, context).toMatch(new RegExp(`Impact: (clients got ${impact.clientErrors} error|${impact.clientErrors} upstream error)`));
  const top = outcome.report.findings.find((f) => f.kind === 'cause' && (f.status === 'confirmed' || f.status === 'suspected'));
  expect(head, context).toContain(top ? `Top cause: ${top.id} (${top.status})` : 'Top cause: none found');
  // Every finding says what it is and what it explains.
  for (const f of outcome.report.findings) {
    expect(['cause', 'risk', 'hygiene'], context).toContain(f.kind);
    expect(f.explains.errors, context).toBeLessThanOrEqual(impact.upstreamErrors);
  }
}

describeWithTools('reset-by-peer lab', nginx ? [] : ['nginx'], () => {
  describe.concurrent('scenarios that do not disturb each other', () => {
    for (const scenario of SCENARIOS.filter((s) => !s.alone)) {
      const missing = missingFor(scenario);
      if (missing.length && process.env['CI'] !== 'true') {
        it.skip(`${scenario.name} (needs ${missing.join(', ')})`, () => undefined);
        continue;
      }
      it(scenario.name, async () => check(scenario, await run(scenario)), 150_000);
    }
  });

  describe('scenarios that run alone (machine-wide counters)', () => {
    for (const scenario of SCENARIOS.filter((s) => s.alone)) {
      const missing = missingFor(scenario);
      if (missing.length && process.env['CI'] !== 'true') {
        it.skip(`${scenario.name} (needs ${missing.join(', ')})`, () => undefined);
        continue;
      }
      it(scenario.name, async () => check(scenario, await run(scenario)), 150_000);
    }
  });
});
