import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ProcessingResponse } from '../../src/services/ext-proc/messages.js';
import type { CheckResponse } from '../../src/services/ext-authz/messages.js';
import { requestBody, requestHeaders } from '../helpers/envoy-messages.js';
import { checkRequest, extAuthzClient, type AuthzClient } from '../helpers/ext-authz-client.js';
import { TempDir } from '../helpers/temp-dir.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';

const HUGE = 'x'.repeat(64 * 1024);

/** Values a client controls, each of which must never come back out verbatim. */
const HOSTILE: ReadonlyArray<{ name: string; value: string | Buffer }> = [
  { name: 'CR LF and a forged header', value: 'acme\r\nx-injected: yes' },
  { name: 'a NUL byte', value: 'acme\u0000evil' },
  { name: 'ANSI escapes', value: '\u001b[2J\u001b[31macme\u001b[0m' },
  { name: 'a forged log line', value: 'acme\n{"level":"error","msg":"forged"}' },
  { name: 'a 64 KiB value', value: HUGE },
  { name: 'invalid UTF-8', value: Buffer.from([0x61, 0xff, 0xfe, 0xc3, 0x28]) },
];

/** Headers a request's tenant, upstream, scope and request id are read from. */
const HEADERS = [
  'x-tenant-id',
  'x-tollgate-upstream',
  'x-tollgate-namespace',
  'x-tollgate-service',
  'x-request-id',
];

/** Whether `text` holds a control character raw (a line feed, which ends a log line, aside). */
function hasRawControl(text: string): boolean {
  return [...text].some((char) => {
    const code = char.charCodeAt(0);
    return (code < 0x20 && code !== 0x0a) || code === 0x7f;
  });
}

describe('header values with control characters or enormous length', () => {
  let temp: TempDir;
  let gate: TestTollgate;
  let authz: AuthzClient;
  /** Every answer tollgate gave, as text: immediate responses and ext_authz answers. */
  const answers: string[] = [];

  before(async () => {
    temp = TempDir.create('tollgate-hostile-');
    gate = await startTestTollgate(
      `circuit_breakers:
  upstreams:
    llm.internal: {failure_threshold: 1}
budgets:
  enabled: true
  store: {backend: embedded, path: ${temp.path('budgets.db')}}
  tenants:
    default: {period: daily, limit: 1}
`,
      { logLevel: 'debug' },
    );
    authz = extAuthzClient(gate.tollgate.grpcPort);

    for (const { value } of HOSTILE) {
      for (const name of HEADERS) {
        answers.push(render(await viaExtProc(gate, name, value)));
        answers.push(render(await viaExtAuthz(authz, name, value)));
      }
    }
    // The same again with the breaker forced open: its answer names the upstream.
    await gate.admin('/breakers/llm.internal/open', 'POST');
    for (const { value } of HOSTILE) {
      answers.push(render(await viaExtProc(gate, 'x-tollgate-upstream', value)));
    }
  });
  after(async () => {
    authz.close();
    await gate.stop();
    temp.remove();
  });

  it('gave an answer to every request', () => {
    assert.equal(answers.length, HOSTILE.length * HEADERS.length * 2 + HOSTILE.length);
    assert.ok(answers.some((text) => text.includes('budget_exhausted')));
    assert.ok(answers.some((text) => text.includes('circuit_open')));
  });

  for (const { name, value } of HOSTILE) {
    it(`echoes ${name} into no answer, log line, /metrics or /status`, async () => {
      const needle = Buffer.isBuffer(value) ? value.toString() : value;
      const outputs = {
        answers,
        logs: gate.logs.raw,
        metrics: [(await gate.admin('/metrics')).text],
        status: [(await gate.admin('/status')).text],
      };
      for (const [where, texts] of Object.entries(outputs)) {
        assert.ok(!texts.some((text) => text.includes(needle)), `${name} found in ${where}`);
      }
    });
  }

  it('writes every log line as one line of JSON with no raw control character', () => {
    for (const line of gate.logs.raw) {
      const body = line.endsWith('\n') ? line.slice(0, -1) : line;
      assert.ok(!body.includes('\n') && !hasRawControl(body), JSON.stringify(body));
      assert.ok(line.length < 4096, `a log line of ${line.length} characters`);
    }
  });

  it('puts no control character in any answer header', () => {
    for (const text of answers) {
      const { headers } = JSON.parse(text) as { headers: Array<[string, string]> };
      for (const [key, value] of headers) assert.ok(!hasRawControl(key + value), key);
    }
  });
});

/** One request with `name: value`, through its body; the reply that ended it (or the last). */
async function viaExtProc(
  gate: TestTollgate,
  name: string,
  value: string | Buffer,
): Promise<ProcessingResponse | undefined> {
  const stream = gate.stream();
  const message = requestHeaders();
  const headers = message.request_headers!.headers!.headers!;
  headers.push({ key: name, raw_value: Buffer.from(value) });

  const first = await stream.send(message);
  const body = first?.immediate_response
    ? first
    : await stream.send(requestBody('{"model":"m","messages":[]}', true));
  await stream.cancel();
  return body;
}

async function viaExtAuthz(
  client: AuthzClient,
  name: string,
  value: string | Buffer,
): Promise<CheckResponse> {
  const request = checkRequest({ rawHeaders: true });
  const http = request.attributes!.request!.http!;
  http.header_map!.headers!.push({ key: name, raw_value: Buffer.from(value) });
  return client.check(request);
}

type HeaderOption = { header: { key: string; value?: string; raw_value?: Uint8Array } };

/** The parts of an ext_proc reply or an ext_authz answer that reach the client or Envoy. */
interface Answer {
  immediate_response?: { headers?: { set_headers?: HeaderOption[] }; body?: Uint8Array };
  denied_response?: { headers?: HeaderOption[]; body?: string };
  ok_response?: { headers?: HeaderOption[] };
  request_body?: { response?: { header_mutation?: { set_headers?: HeaderOption[] } } };
  dynamic_metadata?: unknown;
}

/** What a client or Envoy sees of an answer, as text: headers, body, metadata. */
function render(reply: ProcessingResponse | CheckResponse | undefined): string {
  const answer = (reply ?? {}) as Answer;
  const immediate = answer.immediate_response;
  const denied = answer.denied_response;
  const options = [
    ...(immediate?.headers?.set_headers ?? []),
    ...(denied?.headers ?? []),
    ...(answer.ok_response?.headers ?? []),
    ...(answer.request_body?.response?.header_mutation?.set_headers ?? []),
  ];
  const headers = options.map(({ header }) => [
    header.key,
    header.raw_value ? Buffer.from(header.raw_value).toString() : (header.value ?? ''),
  ]);
  const body = immediate?.body ? Buffer.from(immediate.body).toString() : (denied?.body ?? '');
  return JSON.stringify({ headers, body, metadata: answer.dynamic_metadata ?? null });
}
