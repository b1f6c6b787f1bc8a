import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { STREAMS_PER_CONNECTION } from '../../src/services/connection-recycler.js';
import { replyKind } from '../helpers/envoy-client.js';
import { requestHeaders, responseHeaders } from '../helpers/envoy-messages.js';
import { ResettableStreams } from '../helpers/resettable-stream.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';

/** Three times nghttp2's reset burst (1000): without recycling the first 1000 would end it. */
const RESETS = 3000;

describe('a client that resets every stream, as Envoy does', () => {
  let gate: TestTollgate;

  before(async () => {
    gate = await startTestTollgate('');
  });
  after(async () => gate.stop());

  it(`keeps a stream alive through ${RESETS} resets, moving connections gracefully`, async () => {
    const streams = new ResettableStreams(gate.tollgate.grpcPort);
    const long = streams.stream();
    assert.equal(replyKind(await long.send(requestHeaders())), 'request_headers');

    let refused = 0;
    for (let sent = 0; sent < RESETS;) {
      const stream = streams.stream();
      const reply = await stream.send(requestHeaders({ endOfStream: true }));
      if (!reply && stream.refused) {
        refused += 1;
        continue;
      }
      assert.equal(replyKind(reply), 'request_headers', `stream ${sent}`);
      await stream.reset();
      sent += 1;
    }

    // The first connection went away gracefully: its stream still gets answers.
    const late = await long.send(responseHeaders(200, {}, true));
    const ended = long.end();
    const status = await long.status;
    await ended;
    streams.close();

    assert.equal(replyKind(late), 'response_headers');
    assert.equal(status?.code, 0);
    assert.deepEqual([...new Set(streams.goaways)], [0], 'only NO_ERROR GOAWAYs');
    assert.ok(streams.goaways.length >= RESETS / STREAMS_PER_CONNECTION - 1);
    assert.ok(refused < 20, `${refused} streams refused while a connection went away`);
  });
});
