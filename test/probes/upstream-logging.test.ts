import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { nginxVersionProbe } from '../../probes/read/nginx-version.js';
import { fillTemplate, fixParamValue } from '../../src/engine/template.js';
import { composeFlow } from '../../src/flow/compose.js';
import type { Flow } from '../../src/flow/schema.js';
import { PACKAGE_ROOT } from '../../src/packageRoot.js';
import { commandFixture, commandResults, context, fixturePath } from '../support/fixtures.js';
import { decideNode, okOutcome } from '../support/flowDecide.js';

/** Recorded here: nginx 1.22.1 -T on a config with `access_log off;` at http level (temp dir shown as /srv/lab). */
const dump = readFileSync(fixturePath('nginx', 'access-log-off.nginx-T.txt'), 'utf8');
const version = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());
const facts = (text: string) => nginxConfigProbe.parse(commandResults(['dump'], [{ stdout: text, stderr: '', exitCode: 0 }]), context({ deps: { 'nginx-version': version } }));

const node = (id: string) => (composeFlow(`${PACKAGE_ROOT}/flows/reset-by-peer.yaml`).flow as Flow).nodes[id] as { summary: string; fixes?: Array<{ params: Record<string, string> }> };

describe('no-upstream-logging', () => {
  it('with access_log off says no access log is written, never blank slots', () => {
    const config = facts(dump);
    const probes = { 'nginx-config': okOutcome('nginx-config', config) };
    expect(decideNode('logging', probes)).toBe('no-upstream-logging');
    const summary = fillTemplate(node('no-upstream-logging').summary, probes);
    expect(summary).toBe('no access log is written (access_log off): 502s per route cannot be counted, and nothing records $upstream_status');
    expect(fixParamValue(node('fix-logging').fixes![0]!.params['detail']!, probes)).toBe('none is written (access_log off)');
  });

  it('names the logs and formats that lack $upstream_status', () => {
    const config = facts(dump.replace('access_log off;', 'access_log /var/log/nginx/access.log combined;'));
    const probes = { 'nginx-config': okOutcome('nginx-config', config) };
    expect(fillTemplate(node('no-upstream-logging').summary, probes)).toBe('access log(s) /var/log/nginx/access.log use format(s) combined without $upstream_status');
  });
});
