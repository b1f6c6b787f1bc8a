import type { DemoStack } from './demo-stack.js';

/** A tenant's budget as `GET /budgets/{tenant}` shows it (the fields the demo reads). */
export interface BudgetStatus {
  readonly used: number;
  readonly reserved: number;
  readonly limit: number;
  readonly remaining: number;
  readonly exhausted: boolean;
}

/** `GET /budgets/{tenant}` on the admin port. */
export function budgetOf(stack: DemoStack, tenant: string): Promise<BudgetStatus> {
  return stack.adminJson<BudgetStatus>(`/budgets/${encodeURIComponent(tenant)}`);
}

/** One breaker as `GET /status` shows it (the fields the demo reads). */
export interface BreakerStatus {
  readonly name: string;
  readonly state: 'closed' | 'open' | 'half_open';
  readonly consecutiveFailures: number;
  readonly reopensInMs: number | null;
}

/** The breaker named `name` on `GET /status`; throws when there is none. */
export async function breakerOf(stack: DemoStack, name: string): Promise<BreakerStatus> {
  const status = await stack.adminJson<{ breakers: BreakerStatus[] }>('/status');
  const breaker = status.breakers.find((candidate) => candidate.name === name);
  if (!breaker) throw new Error(`GET /status lists no breaker named ${name}`);
  return breaker;
}

/** Why an endpoint is not healthy, as `GET /health` explains it. */
export interface HealthReasonView {
  readonly check: string;
  readonly status: string;
  readonly detail: string;
}

/** One endpoint's status and reasons on `GET /health/{cluster}`. */
export async function endpointHealth(
  stack: DemoStack,
  cluster: string,
  endpoint: string,
): Promise<{ status: string; reasons: HealthReasonView[] }> {
  const report = await stack.adminJson<{
    endpoints: Array<{ endpoint: string; status: string; reasons: HealthReasonView[] }>;
  }>(`/health/${encodeURIComponent(cluster)}`);
  const found = report.endpoints.find((candidate) => candidate.endpoint === endpoint);
  if (!found) throw new Error(`GET /health/${cluster} lists no endpoint ${endpoint}`);
  return found;
}
