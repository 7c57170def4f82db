import type { ProbeDefinition } from '../src/probe/contract.js';
import { accessLogProbe } from './access-log.js';
import { apparmorProbe } from './apparmor.js';
import { backendRestartsProbe } from './backend-restarts.js';
import { firewallProbe } from './firewall.js';
import { crashAnalysisProbe } from './crash-analysis.js';
import { resetAttributionProbe } from './reset-attribution.js';
import { keepaliveAnalysisProbe } from './keepalive-analysis.js';
import { headerSizeProbe } from './header-size.js';
import { networkPathProbe } from './network-path.js';
import { resourcesProbe } from './resources.js';
import { selinuxProbe } from './selinux.js';
import { backendListenersProbe } from './backend-listeners.js';
import { backendProcessProbe } from './backend-process.js';
import { errorLogProbe } from './error-log.js';
import { keepaliveMeasureProbe } from './keepalive-measure.js';
import { listenQueueProbe } from './listen-queue.js';
import { oomKillsProbe } from './oom-kills.js';
import { listeningSocketsProbe } from './listening-sockets.js';
import { localAddressesProbe } from './local-addresses.js';
import { nginxConfigProbe } from './nginx-config.js';
import { nginxTestProbe } from './nginx-test.js';
import { nginxVersionProbe } from './nginx-version.js';
import { nginxRuntimeProbe } from './nginx-runtime.js';
import { phpFpmPoolsProbe } from './php-fpm-pools.js';
import { processesProbe } from './processes.js';
import { somaxconnProbe } from './somaxconn.js';
import { timelineProbe } from './timeline.js';
import { timeoutAnalysisProbe } from './timeout-analysis.js';

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
