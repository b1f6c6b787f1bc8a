import { endpointHealth } from './admin-views.js';
import { MODEL, UPSTREAM } from './demo-config.js';
import type { DemoStack } from './demo-stack.js';
import { EdsWatcher, type EdsUpdate } from './eds-watcher.js';
import type { Narrator } from './narrator.js';

/** Long enough for two probe rounds 300 ms apart, with room for a slow machine. */
const PUSH_TIMEOUT_MS = 5000;

/**
 * Step 5: an Envoy subscribed to the cluster over EDS sees the first
 * backend go UNHEALTHY when its model starts loading, and HEALTHY again when
 * the model is ready; the second backend stays HEALTHY throughout.
 */
export async function edsStep(stack: DemoStack, say: Narrator): Promise<void> {
  say.begin(
    5,
    'A backend goes unhealthy: the EDS update Envoy receives',
    `tollgate asks both backends for ${MODEL}'s status every 300 ms and publishes them`,
    `over EDS as the endpoints of ${UPSTREAM}; Envoy routes to those published HEALTHY.`,
    '(tollgate never publishes every endpoint unhealthy: the second backend takes over.)',
  );
  const watched = stack.mockEndpoint;
  const spare = `127.0.0.1:${stack.spare.port}`;
  const both = (health: string) => (update: EdsUpdate) =>
    healthOf(update, watched) === health && healthOf(update, spare) === 'HEALTHY';

  say.paragraph(`Envoy subscribes to ${UPSTREAM} (StreamEndpoints, state of the world, ACKs)`);
  const { watcher, first } = await EdsWatcher.subscribe(stack.eds, UPSTREAM);
  try {
    say.detail('EDS', `first answer: ${describeUpdate(first)}`);
    const ready = both('HEALTHY');
    const healthy = ready(first)
      ? first
      : await watcher.until(ready, 'both endpoints HEALTHY', PUSH_TIMEOUT_MS);
    if (healthy !== first) say.detail('EDS', describeUpdate(healthy));
    say.check(ready(healthy), 'both endpoints are published HEALTHY', healthy);

    say.paragraph(`${watched} unloads its model: POST /control {"model_status": "loading"}`);
    await stack.controlMock({ model_status: 'loading' });
    const started = Date.now();
    const down = await watcher.until(both('UNHEALTHY'), `${watched} UNHEALTHY`, PUSH_TIMEOUT_MS);
    say.detail('EDS', `pushed ${elapsed(started, down)} later: ${describeUpdate(down)}`);
    const report = await endpointHealth(stack, UPSTREAM, watched);
    for (const reason of report.reasons) {
      say.detail('/health', `${reason.status}, ${reason.check}: ${reason.detail}`);
    }
    say.check(
      report.reasons.some((reason) => reason.check === 'model_status'),
      `Envoy was told ${watched} is UNHEALTHY; GET /health says why`,
      report,
    );

    say.paragraph(`The model is loaded again: POST /control {"model_status": "ready"}`);
    await stack.controlMock({ model_status: 'ready' });
    const back = Date.now();
    const up = await watcher.until(ready, `${watched} HEALTHY again`, PUSH_TIMEOUT_MS);
    say.detail('EDS', `pushed ${elapsed(back, up)} later: ${describeUpdate(up)}`);
    say.check(ready(up), `Envoy was told ${watched} is HEALTHY again`, up);
  } finally {
    await watcher.close();
  }
}

function healthOf(update: EdsUpdate, endpoint: string): string | undefined {
  return update.endpoints.find((candidate) => `${candidate.address}:${candidate.port}` === endpoint)
    ?.health;
}

function describeUpdate(update: EdsUpdate): string {
  const endpoints = update.endpoints.map(
    (endpoint) => `${endpoint.address}:${endpoint.port} ${endpoint.health}@${endpoint.weight}`,
  );
  return endpoints.join(', ');
}

function elapsed(since: number, update: EdsUpdate): string {
  return `${((update.receivedAt - since) / 1000).toFixed(1)} s`;
}
