import type { EstimatorSettings } from './request/prompt-estimator.js';
import type { ProviderFormat } from './token-usage.js';
import type { UsageFile } from './usage-schema.js';

/** A route whose responses are read in a fixed format. */
export interface RouteFormat {
  readonly pathPrefix?: string;
  readonly routeName?: string;
  readonly format: ProviderFormat;
}

/** The `usage:` section, compiled for the request path. */
export interface UsagePolicy {
  readonly enabled: boolean;
  readonly injectStreamUsage: boolean;
  readonly identityEncoding: boolean;
  readonly streamModeOverride: boolean;
  readonly responseHeaders: boolean;
  readonly chargeFailedResponses: boolean;
  readonly maxRequestBodyBytes: number;
  readonly maxEventBytes: number;
  readonly maxBufferedJsonBytes: number;
  readonly maxDecodedBytes: number;
  readonly estimator: EstimatorSettings;
  readonly routes: readonly RouteFormat[];
  readonly metadataNamespace: string;
  readonly metadataKey: string;
  readonly maxModelLabels: number;
  /** Label the token and cost metrics by tenant (capped at `maxTenantLabels`). */
  readonly tenantLabels: boolean;
  readonly maxTenantLabels: number;
}

/** Compiles the validated `usage:` section. */
export function compileUsagePolicy(file: UsageFile): UsagePolicy {
  return {
    enabled: file.enabled,
    injectStreamUsage: file.inject_stream_usage,
    identityEncoding: file.identity_encoding,
    streamModeOverride: file.stream_mode_override,
    responseHeaders: file.response_headers,
    chargeFailedResponses: file.charge_failed_responses,
    maxRequestBodyBytes: file.max_request_body_bytes,
    maxEventBytes: file.max_event_bytes,
    maxBufferedJsonBytes: file.max_buffered_json_bytes,
    maxDecodedBytes: file.max_decoded_bytes,
    estimator: {
      defaultOutputTokens: file.estimate.default_output_tokens,
      defaultInputTokens: file.estimate.default_input_tokens,
      tokenizeMaxChars: file.estimate.tokenize_max_chars,
    },
    routes: file.routes.map((route) => ({
      pathPrefix: route.path_prefix,
      routeName: route.route_name,
      format: route.provider,
    })),
    metadataNamespace: file.metadata.namespace,
    metadataKey: file.metadata.key,
    maxModelLabels: file.max_model_labels,
    tenantLabels: file.metrics.tenant_labels,
    maxTenantLabels: file.metrics.max_tenant_labels,
  };
}

/**
 * The format a request's response is read in: the first configured route
 * that matches (every condition it sets must hold), else what the path
 * implies (`formatFromPath`), else undefined (detected from the response).
 */
export function routeFormat(
  routes: readonly RouteFormat[],
  path: string,
  routeName: string | undefined,
): ProviderFormat | undefined {
  const route = routes.find(
    (r) =>
      (r.pathPrefix === undefined || path.startsWith(r.pathPrefix)) &&
      (r.routeName === undefined || r.routeName === routeName),
  );
  return route?.format;
}
