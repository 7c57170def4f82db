import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JsonReport } from '../../src/report/jsonReport.js';
import { runCli } from '../support/cli.js';
import { createLab, findNginx, freePort, type Lab } from '../support/lab.js';
import { describeWithTools } from '../support/tools.js';

const nginx = findNginx();
const FIREWALL_TOOLS = /^(iptables|ip6tables|nft|xtables|arptables|ebtables)/;
let bin: string;
let lab: Lab;
let conf: string;

/** A PATH with every command of this machine's but the firewall tools: nftables rules may still be loaded in the kernel. */
async function pathWithoutFirewallTools(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rd-nofw-'));
  for (const from of (process.env['PATH'] ?? '').split(':').filter((d) => d && existsSync(d) && statSync(d).isDirectory())) {
    for (const name of readdirSync(from)) {
      if (FIREWALL_TOOLS.test(name) || existsSync(join(dir, name))) continue;
      await symlink(join(from, name), join(dir, name));
    }
  }
  return dir;
}

beforeAll(async () => {
  bin = await pathWithoutFirewallTools();
  lab = await createLab('nofw');
  ({ conf } = await lab.startNginx({ http: `upstream api {\n  server 127.0.0.1:${await freePort()};\n}`, server: 'location / {\n  proxy_pass http://api;\n}' }));
}, 30_000);
afterAll(async () => {
  await lab?.cleanup();
  if (bin) await rm(bin, { recursive: true, force: true });
});

describeWithTools('firewall without iptables or nft', nginx ? [] : ['nginx'], () => {
  it.skipIf(process.getuid?.() !== 0)('says the rules could not be listed, never "no rule in the way"; conntrack is still read', async () => {
    const run = await runCli(['diagnose', '--json', '--nginx-bin', nginx!, '--nginx-conf', conf], { env: { PATH: bin }, timeoutMs: 60_000 });
    const report = JSON.parse(run.stdout) as JsonReport;
    const firewall = report.probes.find((p) => p.id === 'firewall')!;
    expect(firewall.status).toBe('ok');
    expect(report.findings.find((f) => f.id === 'firewall-reset')).toMatchObject({
      status: 'unknown',
      summary: expect.stringMatching(/^could not list the rules: neither iptables-save nor nft is installed here, and nftables rules exist without them.*Install nft or iptables, or run `nft list ruleset`/),
    });
    expect(report.findings.find((f) => f.id === 'conntrack-full')?.status).not.toBe('unknown');
  }, 60_000);
});
