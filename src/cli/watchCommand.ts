/**
 * `reset-doctor watch [--since 10m] [--json]`: nginx's upstream errors per
 * peer and signature per 10 s, requests and 5xx, and the events around them
 * (reloads, backend restarts, OOM kills, changes applied), live. The screen
 * an on-call leaves open after a fix. In a terminal: the Ink view, q or
 * Ctrl-C quits (exit 0). Without one, or with --json: one JSON line per
 * bucket. A dropped terminal (SIGHUP) ends it at once with 129.
 */
import { RealHost } from '../host/realHost.js';
import type { Host } from '../host/types.js';
import { discoverConfig, errorLogFiles } from '../nginx/discover.js';
import { findPassSites, findUpstreams, listBackends } from '../nginx/backends.js';
import { findNginxBinary } from './nginxBinary.js';
import { checkNginxConf } from './nginxConf.js';
import type { CliArgs } from './args.js';
import { UserError } from '../util/userError.js';
import { stateDir } from '../util/stateDir.js';
import { BUCKET_MS, readInto, TrafficCounter, type AccessLogSpec, type Bucket } from '../watch/count.js';
import { LogFollower } from '../watch/follow.js';
import { EventWatcher, type WatchEvent, type WatchedBackend } from '../watch/events.js';
import { WatchStore } from '../watch/store.js';

const LOG_POLL_MS = 1000;
const EVENT_POLL_MS = 5000;
/** A bucket is printed this long after it ends: nginx writes a request's access-log line when it finishes it. */
const BUCKET_GRACE_MS = 1500;

export interface WatchSetup {
  host: Host;
  errorLogs: string[];
  accessLogs: AccessLogSpec[];
  backends: WatchedBackend[];
  nginxConf: string | undefined;
  stateDir: string;
  notes: string[];
}

/** Where nginx logs and which backends it uses, from the config it loads (as inspect errors finds them). */
export async function watchSetup(args: CliArgs): Promise<WatchSetup> {
  if (args.replay || args.demo) throw new UserError('watch follows the logs of this host as they are written: --replay and --demo do not apply to it');
  if (args.positionals.length > 0) throw new UserError(`watch takes no arguments (got "${args.positionals[0]}")`);
  const host = new RealHost();
  await checkNginxConf(host, args.probeOptions.nginxConf);
  const nginxBin = args.nginxBinGiven ? args.probeOptions.nginxBin : await findNginxBinary(host);
  const found = await discoverConfig(host, { nginxBin, nginxConf: args.probeOptions.nginxConf, nginxPrefix: args.probeOptions.nginxPrefix, readRejected: true });
  const errorLogs = args.probeOptions.errorLogs.length > 0 ? args.probeOptions.errorLogs : errorLogFiles(found.model);
  if (errorLogs.length === 0) throw new UserError('the config logs errors only to stderr/syslog/memory: give the file with --error-log PATH');
  const accessLogs = found.model.accessLogs.filter((a) => a.hasStatus).map((a) => ({ path: a.path, formatText: a.formatText }));
  const notes = [...found.notes];
  if (accessLogs.length === 0) notes.push('no access log records $status: requests and 5xx are not counted');
  const upstreams = findUpstreams(found.set.files);
  const backends = listBackends(upstreams, findPassSites(found.set.files, upstreams))
    .filter((b) => !b.markedDown)
    .map((b) => ({ address: b.address, kind: b.kind, host: b.host, port: b.port, path: b.path }));
  return { host, errorLogs, accessLogs, backends, nginxConf: args.probeOptions.nginxConf, stateDir: stateDir(args).dir, notes };
}

export async function watchCommand(args: CliArgs): Promise<number> {
  // A dropped SSH link: nothing can be drawn or printed any more, so end now rather than hang on a dead terminal.
  process.once('SIGHUP', () => process.exit(129));
  const setup = await watchSetup(args);
  const { host } = setup;
  const interactive = !args.json && process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (!args.json && !interactive) process.stderr.write('reset-doctor: no terminal on stdin/stdout, so no live view; printing one JSON line per 10 s bucket (as `watch --json`).\n');

  const startMs = host.now();
  const sinceMs = args.sinceGiven ? startMs - args.probeOptions.sinceMs : startMs;
  // The history and the follower split at a second boundary (nginx logs whole seconds): no line is counted twice.
  const splitMs = Math.floor(startMs / 1000) * 1000;
  const counter = new TrafficCounter({ bucketMs: BUCKET_MS, fromMs: sinceMs });
  const store = new WatchStore(counter, () => host.now());
  store.addNotes(setup.notes);
  const follower = new LogFollower(host, setup.errorLogs, setup.accessLogs, counter, { fromMs: splitMs });
  const watcher = new EventWatcher(host, { nginxConf: setup.nginxConf, backends: setup.backends, stateDir: setup.stateDir, sinceMs });

  let stopped = false;
  let exitCode = 0;
  const stop = (code: number) => {
    if (stopped) return;
    stopped = true;
    exitCode = code;
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // A reader that went away (| head) ends it quietly; a terminal that went away is a hang-up.
    process.exit(error.code === 'EPIPE' ? 0 : 129);
  });

  if (args.sinceGiven) {
    const problems = await readInto(host, counter, { errorLogs: setup.errorLogs, accessLogs: setup.accessLogs, fromMs: sinceMs, toMs: splitMs - 1 });
    // A log younger than the window is no problem here: the history simply starts with it.
    store.addNotes(problems.filter((p) => !/the window starts before the oldest line/.test(p)));
  }
  await follower.poll();
  store.addNotes(follower.problems());
  store.addEvents(await watcher.poll());
  store.addNotes(watcher.problems);

  const sleepUntilStopped = async (ms: number) => {
    const until = host.now() + ms;
    while (!stopped && host.now() < until) await host.sleep(Math.min(200, until - host.now()));
  };
  const logLoop = async (onTick: () => void) => {
    while (!stopped) {
      await follower.poll();
      store.addNotes(follower.problems());
      for (const event of follower.events.splice(0)) store.addNotes([event]);
      onTick();
      store.changed();
      await sleepUntilStopped(LOG_POLL_MS);
    }
  };
  const eventLoop = async () => {
    while (!stopped) {
      await sleepUntilStopped(EVENT_POLL_MS);
      if (stopped) break;
      store.addEvents(await watcher.poll());
      store.addNotes(watcher.problems);
    }
  };

  if (interactive) {
    const { runWatchView } = await import('../ui/watch/runWatchView.js');
    const view = runWatchView(store, () => stop(0));
    void view.done.then(() => stop(exitCode));
    await Promise.all([logLoop(() => undefined), eventLoop()]);
    view.close();
    await view.done;
    return exitCode;
  }

  // Headless: one JSON line per bucket once it is over, with the events noticed since the line before.
  let nextStart = Math.floor((args.sinceGiven ? sinceMs : startMs) / BUCKET_MS) * BUCKET_MS;
  const printed = new Set<WatchEvent>();
  const printDue = () => {
    while (nextStart + BUCKET_MS + BUCKET_GRACE_MS <= host.now()) {
      const bucket = counter.counts({ fromMs: nextStart, toMs: nextStart }).buckets[0]!;
      // Events are noticed late (a restart's time is its process's start): each goes into the first line printed after it.
      const events = store.events.filter((e) => !printed.has(e) && e.atMs < nextStart + BUCKET_MS);
      for (const e of events) printed.add(e);
      process.stdout.write(`${JSON.stringify(bucketLine(bucket, events))}\n`);
      nextStart += BUCKET_MS;
    }
  };
  for (const note of store.notes) process.stderr.write(`reset-doctor: note: ${note}\n`);
  let notesShown = store.notes.length;
  const tick = () => {
    printDue();
    for (const note of store.notes.slice(notesShown)) process.stderr.write(`reset-doctor: note: ${note}\n`);
    notesShown = store.notes.length;
  };
  await Promise.all([logLoop(tick), eventLoop()]);
  return exitCode;
}

function bucketLine(bucket: Bucket, events: WatchEvent[]) {
  return {
    start: new Date(bucket.startMs).toISOString(),
    startMs: bucket.startMs,
    seconds: BUCKET_MS / 1000,
    signatures: bucket.signatures,
    peers: bucket.peers,
    requests: bucket.requests,
    errors5xx: bucket.errors5xx,
    events: events.map((e) => ({ at: new Date(e.atMs).toISOString(), kind: e.kind, text: e.text })),
  };
}
