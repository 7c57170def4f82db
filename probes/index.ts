import type { ProbeDefinition } from '../src/probe/contract.js';
import { accessLogProbe } from './read/access-log.js';
import { apparmorProbe } from './read/apparmor.js';
import { backendRestartsProbe } from './read/backend-restarts.js';
import { firewallProbe } from './read/firewall.js';
import { crashAnalysisProbe } from './combine/crash-analysis.js';
import { resetAttributionProbe } from './combine/reset-attribution.js';
import { keepaliveAnalysisProbe } from './combine/keepalive-analysis.js';
import { headerSizeProbe } from './read/header-size.js';
import { networkPathProbe } from './read/network-path.js';
import { resourcesProbe } from './read/resources.js';
import { selinuxProbe } from './read/selinux.js';
import { backendListenersProbe } from './read/backend-listeners.js';
import { backendProcessProbe } from './read/backend-process.js';
import { errorLogProbe } from './read/error-log.js';
import { keepaliveMeasureProbe } from './read/keepalive-measure.js';
import { listenQueueProbe } from './read/listen-queue.js';
import { oomKillsProbe } from './read/oom-kills.js';
import { listeningSocketsProbe } from './read/listening-sockets.js';
import { localAddressesProbe } from './read/local-addresses.js';
import { nginxConfigProbe } from './read/nginx-config.js';
import { nginxTestProbe } from './read/nginx-test.js';
import { nginxVersionProbe } from './read/nginx-version.js';
import { nginxRuntimeProbe } from './read/nginx-runtime.js';
import { phpFpmPoolsProbe } from './read/php-fpm-pools.js';
import { processesProbe } from './read/processes.js';
import { somaxconnProbe } from './read/somaxconn.js';
import { timelineProbe } from './combine/timeline.js';
import { timeoutAnalysisProbe } from './combine/timeout-analysis.js';

/** Every probe a flow may name, by id. */
export const PROBES: ReadonlyMap<string, ProbeDefinition> = new Map(
  [
    nginxVersionProbe,
    nginxTestProbe,
    nginxConfigProbe,
    listeningSocketsProbe,
    localAddressesProbe,
    somaxconnProbe,
    processesProbe,
    backendListenersProbe,
    backendProcessProbe,
    errorLogProbe,
    accessLogProbe,
    keepaliveMeasureProbe,
    listenQueueProbe,
    oomKillsProbe,
    nginxRuntimeProbe,
    timelineProbe,
    timeoutAnalysisProbe,
    backendRestartsProbe,
    resourcesProbe,
    selinuxProbe,
    apparmorProbe,
    firewallProbe,
    networkPathProbe,
    headerSizeProbe,
    keepaliveAnalysisProbe,
    crashAnalysisProbe,
    resetAttributionProbe,
    phpFpmPoolsProbe,
  ].map((probe) => [probe.id, probe as unknown as ProbeDefinition]),
);
