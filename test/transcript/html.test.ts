import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { hasCommand } from '../support/lab.js';
import { decodePng } from '../support/png.js';
import { describeWithTools } from '../support/tools.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rd-html-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Debian's chromium, headless, with its own background traffic (updates, accounts) off; its net log lists every request. */
function screenshot(page: string, png: string, netLog: string): void {
  const run = spawnSync(
    'chromium',
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${png}`, '--window-size=1280,800', `--log-net-log=${netLog}`, `file://${page}`],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (run.status !== 0) throw new Error(`chromium failed: ${run.stderr}`);
}

/** Requests the page made (Chromium's own service requests carry no file:// isolation key). */
async function pageRequests(netLog: string): Promise<string[]> {
  const log = JSON.parse(await readFile(netLog, 'utf8')) as { events: Array<{ params?: { url?: string; network_isolation_key?: string } }> };
  return [...new Set(log.events.flatMap((e) => (e.params?.url && e.params.network_isolation_key?.includes('file://') && !e.params.url.startsWith('file:') ? [e.params.url] : [])))];
}

const near = (a: readonly number[], b: readonly number[]) => a.every((v, i) => i > 2 || Math.abs(v - b[i]!) <= 12);

describeWithTools('the HTML page of a transcript', hasCommand('chromium') ? [] : ['chromium'], () => {
  it('opens in headless Chromium with no network request, and the 1280×800 screenshot shows the error bars and the reload and restart markers', async () => {
    const transcript = join(dir, 'backend-down.jsonl');
    await runCli(['diagnose', '--demo', 'backend-down', '--transcript', transcript]);
    const html = await runCli(['transcript', transcript, '--format', 'html']);
    expect(html.code).toBe(0);
    const page = join(dir, 'page.html');
    await writeFile(page, html.stdout);
    // Self-contained: nothing to load, and a policy that would refuse it anyway.
    expect(html.stdout).not.toMatch(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html.stdout).not.toMatch(/<link\b|<script\b|@import|url\(/i);
    expect(html.stdout).toContain(`content="default-src 'none'`);
    expect(html.stdout).toMatch(/<svg[^>]*role="img"/);
    expect(html.stdout).toContain('class="marker marker-nginx-reload"');
    expect(html.stdout).toContain('class="marker marker-backend-start"');

    const png = join(dir, 'page.png');
    const netLog = join(dir, 'net.json');
    screenshot(page, png, netLog);
    expect(await pageRequests(netLog)).toEqual([]);
    const image = decodePng(await readFile(png));
    expect([image.width, image.height]).toEqual([1280, 800]);
    const seen = new Set<string>();
    const colors: Record<string, number[]> = { bar: [0xfb, 0x85, 0x00], reload: [0x1f, 0x6f, 0xeb], restart: [0x2d, 0xa4, 0x4e] };
    // The chart's plot area, below the header table.
    for (let y = 400; y < 700; y += 2) for (let x = 80; x < 1230; x++) for (const [name, rgb] of Object.entries(colors)) if (near(image.pixel(x, y), rgb)) seen.add(name);
    expect([...seen].sort()).toEqual(['bar', 'reload', 'restart']);

    // The check sees a page's request when there is one.
    const control = join(dir, 'control.html');
    await writeFile(control, '<!doctype html><img src="http://127.0.0.1:9/x.png">');
    screenshot(control, join(dir, 'control.png'), join(dir, 'control.json'));
    expect(await pageRequests(join(dir, 'control.json'))).toEqual(['http://127.0.0.1:9/x.png']);
  }, 120_000);
});
