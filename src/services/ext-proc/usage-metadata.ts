import { formatCost } from '../../cost/cost-calculator.js';
import type { ExchangeOutcome } from '../../engine/usage-recorder.js';
import type { UsagePolicy } from '../../usage/usage-policy.js';
import { scalarStruct, type StructScalar } from '../proto-struct.js';
import type { ProtoStruct } from './messages.js';

/**
 * The dynamic metadata that carries a request's usage and cost to Envoy, for
 * its access log (`%DYNAMIC_METADATA(envoy.filters.http.ext_proc:tollgate:cost)%`)
 * and later filters. Envoy drops it unless the filter's
 * `metadata_options.receiving_namespaces.untyped` lists the namespace.
 */
export function usageMetadata(
  outcome: ExchangeOutcome,
  policy: UsagePolicy,
  upstream: string | undefined,
): ProtoStruct {
  const { settlement, cost } = outcome;
  const { usage } = settlement;
  const formatted = cost && formatCost(cost);

  const fields: Record<string, StructScalar> = {
    upstream,
    model: settlement.model,
    provider: settlement.format,
    usage_source: settlement.source,
    usage_missing: settlement.missing,
    tokens_input: usage.input,
    tokens_cached_input: usage.cachedInput,
    tokens_cache_creation: usage.cacheCreation,
    tokens_output: usage.output,
    tokens_reasoning: usage.reasoning,
    tokens_total: usage.total,
    cost: formatted?.total,
    currency: formatted?.currency,
  };

  const inner = scalarStruct(fields);
  const namespace = { fields: { [policy.metadataKey]: { structValue: inner } } };
  return { fields: { [policy.metadataNamespace]: { structValue: namespace } } };
}

/** The response headers that show usage and cost on buffered responses. */
export function usageHeaders(outcome: ExchangeOutcome): Array<[string, string]> {
  const { usage } = outcome.settlement;
  const headers: Array<[string, string]> = [
    ['x-tollgate-tokens-input', String(usage.input)],
    ['x-tollgate-tokens-output', String(usage.output)],
  ];

  if (outcome.cost) headers.push(['x-tollgate-cost', formatCost(outcome.cost).total]);
  return headers;
}
