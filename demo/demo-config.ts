/**
 * The config the demo starts tollgate with, written to a temporary folder so
 * that a run never touches `config/` or `data/`.
 */

/** The Envoy cluster every demo request is routed to: the breaker's and the EDS resource's name. */
export const UPSTREAM = 'llm_backend';

/** The model every demo request asks for (the mock serves it). */
export const MODEL = 'gpt-4o-mini';

/** The roomy tenant. */
export const ACME = 'acme';

/** The tenant whose small daily budget runs out in step 3. */
export const TRIAL = 'trial';

/** The trial tenant's daily limit in tokens: room for three of the demo's trial requests. */
export const TRIAL_LIMIT = 200;

/** The demo's prices per million tokens of {@link MODEL}, as written in the config. */
export const PRICE_PER_MILLION = { input: 0.15, output: 0.6 } as const;

/** Breaker settings of {@link UPSTREAM}, short so that the demo waits seconds, not minutes. */
export const BREAKER = { failureThreshold: 3, timeoutSeconds: 2 } as const;

/** What the config depends on. */
export interface DemoConfigOptions {
  /** The ports on 127.0.0.1 of the mock backends, the cluster's endpoints. */
  readonly mockPorts: readonly number[];
  /** The embedded budget store's file. */
  readonly storePath: string;
}

/**
 * tollgate's YAML for the demo: free ports (tollgate reports what it bound),
 * info logs (the "tollgate is serving" line carries the ports), a fast
 * breaker, prices, budgets for two tenants, and the mock backends as an EDS
 * cluster whose model status is probed every 300 ms.
 */
export function demoConfigYaml(options: DemoConfigOptions): string {
  const endpoints = options.mockPorts.map(
    (port) => `      - { address: 127.0.0.1, port: ${port} }`,
  );
  return `# Written by npm run demo; see demo/demo-config.ts.
server:
  grpc_address: 127.0.0.1:0
  admin_address: 127.0.0.1:0
  drain_timeout_seconds: 2
logging:
  level: info
circuit_breakers:
  upstreams:
    ${UPSTREAM}:
      failure_threshold: ${BREAKER.failureThreshold}
      success_threshold: 1
      timeout_seconds: ${BREAKER.timeoutSeconds}
cost_attribution:
  currency: USD
  pricing:
    - model_pattern: ${MODEL}*
      input_cost_per_million: ${PRICE_PER_MILLION.input}
      output_cost_per_million: ${PRICE_PER_MILLION.output}
budgets:
  enabled: true
  store: { backend: embedded, path: ${JSON.stringify(options.storePath)} }
  tenants:
    ${ACME}: { period: daily, limit: 1000000 }
    ${TRIAL}: { period: daily, limit: ${TRIAL_LIMIT} }
clusters:
  - name: ${UPSTREAM}
    endpoints:
${endpoints.join('\n')}
    checks:
      interval: 300ms
      interval_jitter_percent: 0
      timeout: 1s
      healthy_threshold: 1
      unhealthy_threshold: 2
      model_status:
        endpoint_pattern: /v1/models/{model}
        models: [${MODEL}]
`;
}
