import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createLogger, SECRET_HEADERS } from '../../src/admin/logger.js';
import { LogSink } from '../helpers/log-sink.js';

describe('createLogger', () => {
  const secretHeaders = Object.fromEntries(
    SECRET_HEADERS.map((name, index) => [name, `planted-secret-${index}`]),
  );

  const placements = [
    { name: 'top-level headers', fields: { headers: secretHeaders } },
    { name: 'headers one level down', fields: { req: { headers: secretHeaders } } },
    { name: 'headers two levels down', fields: { request: { http: { headers: secretHeaders } } } },
  ];

  for (const { name, fields } of placements) {
    it(`redacts every secret header in ${name}`, () => {
      const sink = new LogSink('debug');

      sink.logger.info({ ...fields, headers_kept: { 'x-tenant-id': 'acme' } }, 'request');

      assert.doesNotMatch(sink.raw.join(''), /planted-secret/);
      assert.match(sink.raw.join(''), /\[redacted\]/);
      assert.match(sink.raw.join(''), /acme/);
    });
  }

  it('redacts the extra secret headers it is given, such as an API key header', () => {
    const raw: string[] = [];
    const logger = createLogger('info', { write: (line: string) => raw.push(line) }, [
      'x-team-key',
    ]);

    logger.info({ headers: { 'x-team-key': 'planted-team-key', 'x-tenant-id': 'acme' } }, 'req');

    assert.doesNotMatch(raw.join(''), /planted-team-key/);
    assert.match(raw.join(''), /acme/);
  });

  it('writes JSON lines with a level label and a time', () => {
    const sink = new LogSink('info');

    sink.logger.info({ breaker: 'llm' }, 'hello');

    assert.equal(sink.lines[0]?.level, 'info');
    assert.equal(sink.lines[0]?.msg, 'hello');
    assert.match(String(sink.lines[0]?.time), /^\d{4}-\d\d-\d\dT/);
  });
});
