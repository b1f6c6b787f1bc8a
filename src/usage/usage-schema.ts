import { z } from 'zod';

import { wholeNumber } from '../config/schema-helpers.js';
import { PROVIDER_FORMATS } from './token-usage.js';

const MIB = 1024 * 1024;

const routeOverrideSchema = z
  .strictObject({
    /** Matches requests whose path starts with this. */
    path_prefix: z.string().startsWith('/', 'a path prefix starts with /').optional(),
    /** Matches requests on this Envoy route (the `xds.route_name` attribute). */
    route_name: z.string().min(1).optional(),
    /** The response format to read usage with on matching requests. */
    provider: z.enum(PROVIDER_FORMATS),
  })
  .refine((route) => route.path_prefix !== undefined || route.route_name !== undefined, {
    message: 'a route override needs path_prefix, route_name, or both',
  });

const estimateSchema = z.strictObject({
  /** Output tokens assumed when a request sets no max_tokens-like cap. */
  default_output_tokens: wholeNumber(0, 10_000_000).default(1024),
  /** Input tokens assumed when a request body cannot be read. */
  default_input_tokens: wholeNumber(0, 10_000_000).default(1024),
  /** The longest prompt tokenized exactly; a longer one is estimated from its pieces. */
  tokenize_max_chars: wholeNumber(0, 64 * MIB).default(512),
});

const metadataSchema = z.strictObject({
  /** Dynamic metadata namespace; list it in the filter's receiving_namespaces. */
  namespace: z.string().min(1).default('envoy.filters.http.ext_proc'),
  /** Key of tollgate's struct inside the namespace. */
  key: z.string().min(1).default('tollgate'),
});

const metricsSchema = z.strictObject({
  /**
   * Add a `tenant` label to tollgate_tokens_total and tollgate_cost_total.
   * Off by default: every tenant is a further series per model and type.
   */
  tenant_labels: z.boolean().default(false),
  /**
   * Distinct tenants kept as label values, the first seen first; later new
   * ones are labelled "other", so API-key tenants cannot grow the metrics.
   */
  max_tenant_labels: wholeNumber(1, 10_000).default(100),
});

/** The `usage:` section: reading token usage from requests and responses. */
export const usageSchema = z.strictObject({
  /** Read request bodies and responses for token usage. */
  enabled: z.boolean().default(true),
  /**
   * Add `stream_options.include_usage: true` to streamed OpenAI-style
   * completions that lack it, so the provider reports usage.
   */
  inject_stream_usage: z.boolean().default(true),
  /** Remove `accept-encoding` from requests, so upstreams answer uncompressed. */
  identity_encoding: z.boolean().default(true),
  /** Ask Envoy (mode_override) to stream SSE and NDJSON responses to tollgate. */
  stream_mode_override: z.boolean().default(true),
  /** Add x-tollgate-tokens-input/-output and x-tollgate-cost to buffered responses. */
  response_headers: z.boolean().default(true),
  /** Charge the estimate when a non-2xx response reports no usage (default: charge nothing). */
  charge_failed_responses: z.boolean().default(false),
  /** Largest request body read for the model and the estimate. */
  max_request_body_bytes: wholeNumber(1024, 64 * MIB).default(MIB),
  /** Largest single SSE event or NDJSON line; past it reading stops. */
  max_event_bytes: wholeNumber(1024, 64 * MIB).default(MIB),
  /** JSON responses up to this size are parsed whole; larger ones incrementally. */
  max_buffered_json_bytes: wholeNumber(1024, 64 * MIB).default(MIB),
  /**
   * The most bytes a compressed response is inflated to for counting; past
   * it reading stops (a decompression bomb) and the estimate is charged.
   */
  max_decoded_bytes: wholeNumber(64 * 1024, 1024 * MIB).default(8 * MIB),
  /** The request-side estimate, charged when usage is unknown. */
  estimate: estimateSchema.prefault({}),
  /** Response formats forced for some routes; otherwise detected from path and shape. */
  routes: z.array(routeOverrideSchema).default([]),
  /** Where usage and cost go in Envoy's dynamic metadata. */
  metadata: metadataSchema.prefault({}),
  /** Distinct model names kept as metric labels; further ones are labelled "other". */
  max_model_labels: wholeNumber(1, 10_000).default(100),
  /** Labels of the usage metrics beyond model and type. */
  metrics: metricsSchema.prefault({}),
});

/** The validated `usage:` section. */
export type UsageFile = z.output<typeof usageSchema>;
