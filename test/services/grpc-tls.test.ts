import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { credentials, status } from '@grpc/grpc-js';

import { EnvoyStream, extProcClient, replyKind } from '../helpers/envoy-client.js';
import { requestHeaders } from '../helpers/envoy-messages.js';
import { makeTestPki, type TestPki } from '../helpers/certificates.js';
import { startTestTollgate, type TestTollgate } from '../helpers/tollgate-harness.js';

function tlsConfig(pki: TestPki, mtls: boolean): string {
  const client = mtls ? `    client_ca_file: ${pki.caCert}\n    require_client_cert: true\n` : '';
  return `server:
  grpc_address: 127.0.0.1:0
  admin_address: 127.0.0.1:0
  tls:
    cert_file: ${pki.serverCert}
    key_file: ${pki.serverKey}
${client}`;
}

async function firstReply(tg: TestTollgate, creds: ReturnType<typeof credentials.createSsl>) {
  const options = { 'grpc.ssl_target_name_override': 'localhost' };
  const client = extProcClient(tg.tollgate.grpcPort, creds, options);
  const stream = new EnvoyStream(client);
  const reply = await stream.send(requestHeaders());
  if (reply) await stream.cancel();
  const end = await stream.status;
  client.close();
  return { reply, end };
}

describe('gRPC port TLS', () => {
  let pki: TestPki;
  before(() => {
    pki = makeTestPki();
  });

  describe('server certificate only', () => {
    let tg: TestTollgate;
    before(async () => {
      tg = await startTestTollgate(tlsConfig(pki, false));
    });
    after(() => tg.stop());

    it('serves a client that trusts the server certificate', async () => {
      const { reply } = await firstReply(tg, credentials.createSsl(pki.read(pki.caCert)));

      assert.equal(replyKind(reply), 'request_headers');
    });

    it('refuses a plaintext client', async () => {
      const client = extProcClient(tg.tollgate.grpcPort, credentials.createInsecure());
      const stream = new EnvoyStream(client);

      const reply = await stream.send(requestHeaders());
      const end = await stream.status;
      client.close();

      assert.equal(reply, undefined);
      assert.equal(end.code, status.UNAVAILABLE);
    });
  });

  describe('client certificates required (mTLS)', () => {
    let tg: TestTollgate;
    before(async () => {
      tg = await startTestTollgate(tlsConfig(pki, true));
    });
    after(() => tg.stop());

    it('serves a client whose certificate the configured CA signed', async () => {
      const creds = credentials.createSsl(
        pki.read(pki.caCert),
        pki.read(pki.clientKey),
        pki.read(pki.clientCert),
      );

      const { reply } = await firstReply(tg, creds);

      assert.equal(replyKind(reply), 'request_headers');
    });

    it('refuses a client without a certificate', async () => {
      const { reply, end } = await firstReply(tg, credentials.createSsl(pki.read(pki.caCert)));

      assert.equal(reply, undefined);
      assert.equal(end.code, status.UNAVAILABLE);
    });

    it('refuses a client whose certificate another CA signed', async () => {
      const creds = credentials.createSsl(
        pki.read(pki.caCert),
        pki.read(pki.rogueKey),
        pki.read(pki.rogueCert),
      );

      const { reply, end } = await firstReply(tg, creds);

      assert.equal(reply, undefined);
      assert.equal(end.code, status.UNAVAILABLE);
    });
  });
});
