import { describe, expect, it } from 'vitest';
import { SourceResults, type ProbeOutcome } from '../../src/probe/contract.js';
import { keepaliveAnalysisProbe } from '../../probes/combine/keepalive-analysis.js';
import { nginxConfigProbe } from '../../probes/read/nginx-config.js';
import { nginxVersionProbe } from '../../probes/read/nginx-version.js';
import { FIXES } from '../../src/fixes/catalog.js';
import { applicableSteps } from '../../src/engine/reducer.js';
import { fixParamValue } from '../../src/engine/template.js';
import { resolveFlow } from '../../src/flow/resolve.js';
import { adviseConfig } from '../../src/nginx/advice.js';
import { loadConfigDump } from '../../src/nginx/load.js';
import { buildModel } from '../../src/nginx/model.js';
import { parseVersion } from '../../src/nginx/version.js';
import { commandFixture, commandResults, context } from '../support/fixtures.js';
import { PLACEHOLDER } from '../support/placeholders.js';

/**
 * nginx before 1.15.3 (Debian 10 ships 1.14.2) has no upstream keepalive_timeout:
 * an idle cached connection stays until the backend closes it. A backend idle
 * timeout above 60 s is safe on 1.18 and races on 1.14.2, and the
 * keepalive_timeout fix would fail nginx -t there.
 */
const CONFIG = `events {}
http {
    upstream api {
        server 127.0.0.1:8081;
        keepalive 16;
    }
    server {
        listen 80;
        location / {
            proxy_pass http://api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`;
const DUMP = `# configuration file /etc/nginx/nginx.conf:\n${CONFIG}`;

function configFacts(version: string) {
  const recorded = nginxVersionProbe.parse(commandResults(['version'], [commandFixture('nginx-V')]), context());
  const running = { ...recorded, ...parseVersion(version)!, version };
  return nginxConfigProbe.parse(commandResults(['dump'], [{ stdout: DUMP, stderr: '', exitCode: 0 }]), context({ deps: { 'nginx-version': running } }));
}

/** What backend-process reports for gunicorn started with --keep-alive N (the fields keepalive-analysis reads). */
const gunicorn = (seconds: number) => ({
  backends: [{ address: '127.0.0.1:8081', upstream: 'api', local: true, listening: true, kind: 'gunicorn', idleTimeoutSec: seconds, idleTimeoutSource: 'flag', inferred: false, note: `gunicorn --keep-alive ${seconds}` }],
});

const analyse = (version: string, backendIdle: number) => keepaliveAnalysisProbe.parse(new SourceResults([], 0), context({ deps: { 'nginx-config': configFacts(version), 'backend-process': gunicorn(backendIdle) } }));

async function fixes(facts: Record<string, unknown>) {
  const flow = await resolveFlow('reset-by-peer');
  const node = flow.nodes['fix-keepalive']!;
  if (node.kind !== 'fix') throw new Error('fix-keepalive is not a fix node');
  const probes: Record<string, ProbeOutcome> = { 'keepalive-analysis': { id: 'keepalive-analysis', status: 'ok', facts, summary: '', commands: [], startedAt: 0, durationMs: 0 } as ProbeOutcome };
  return Object.fromEntries(
    node.fixes.map((use) => {
      const params = Object.fromEntries(Object.entries(use.params).map(([name, path]) => [name, fixParamValue(path, probes)]));
      return [use.id, applicableSteps(FIXES.get(use.id)!.steps, params)];
    }),
  );
}

describe('upstream keepalive_timeout by nginx version', () => {
  it('the model has no idle timeout before 1.15.3, and the 60 s default from it on', () => {
    const model = (v: string) => buildModel(loadConfigDump(DUMP), { version: parseVersion(v) }).upstreams[0]!;
    expect(model('1.14.2').keepaliveTimeoutSec).toBeNull();
    expect(model('1.15.3').keepaliveTimeoutSec).toBe(60);
    expect(model('1.18.0').keepaliveTimeoutSec).toBe(60);
    expect(adviseConfig(buildModel(loadConfigDump(DUMP), { version: parseVersion('1.14.2') })).find((a) => a.id === 'keepalive-timeout-vs-backend')!.message).toContain('no time limit');
  });

  it('1.18: a backend idle timeout of 75 s outlasts keepalive_timeout 60 s, no race', () => {
    const facts = analyse('1.18.0', 75);
    expect(facts.mismatchCount).toBe(0);
    expect(facts.upstreams[0]!.summary).toContain('vs keepalive_timeout 60 s');
  });

  it('1.14.2: the same backend races, and no fix names keepalive_timeout as the change to make', async () => {
    const facts = analyse('1.14.2', 75);
    expect(facts.mismatchCount).toBe(1);
    const [api] = facts.mismatches;
    expect(api).toMatchObject({ keepaliveTimeoutSec: null, suggestedKeepaliveTimeout: null, lowerTimeout: null, backendSetting: null, oldNginx: { upstream: 'api' } });
    expect(api!.summary).toBe('api (127.0.0.1:8081): backend idle timeout 75.0 s (gunicorn flag) while nginx 1.14.2 never closes an idle upstream connection itself (upstream keepalive_timeout came with 1.15.3); no resets logged in the window yet: a latent risk until traffic idles past the backend timeout');
    const offered = await fixes(facts);
    expect(offered['lower-upstream-keepalive-timeout']).toBeNull();
    expect(offered['raise-backend-keepalive']).toBeNull();
    const old = offered['keepalive-old-nginx']!;
    expect(old[0]).toContain('keepalive_timeout in upstream api (/etc/nginx/nginx.conf:3) would fail nginx -t on this version');
    expect(old[1]).toContain('remove the `keepalive` line from upstream api');
    for (const step of old) expect(step).not.toMatch(PLACEHOLDER);
  });

  it('1.18 with a backend that closes first: the keepalive_timeout fix, and not the old-nginx one', async () => {
    const facts = analyse('1.18.0', 5);
    expect(facts.mismatches[0]).toMatchObject({ keepaliveTimeoutSec: 60, lowerTimeout: { upstream: 'api', timeout: '4s' }, oldNginx: null });
    const offered = await fixes(facts);
    expect(offered['lower-upstream-keepalive-timeout']![0]).toContain('`keepalive_timeout 4s;`');
    expect(offered['keepalive-old-nginx']).toBeNull();
  });
});
