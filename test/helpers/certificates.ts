import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** PEM files made for one test run. */
export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by a different CA that the server does not trust. */
  rogueCert: string;
  rogueKey: string;
  read(file: string): Buffer;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(dir: string, name: string, subject: string, ca: string, extensions: string): void {
  openssl(
    dir,
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`].concat([
      '-subj',
      subject,
      '-out',
      `${name}.csr`,
    ]),
  );
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(
    dir,
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`].concat([
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ]),
  );
}

function authority(dir: string, name: string): void {
  openssl(
    dir,
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`].concat([
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    ]),
  );
}

/**
 * Generates, with the `openssl` command, a CA, a server certificate for
 * 127.0.0.1 and localhost, a client certificate from that CA, and a client
 * certificate from a second, untrusted CA.
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-pki-'));
  authority(dir, 'ca');
  authority(dir, 'rogue-ca');
  issue(dir, 'server', '/CN=tollgate', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  issue(dir, 'client', '/CN=envoy', 'ca', 'extendedKeyUsage=clientAuth\n');
  issue(dir, 'rogue', '/CN=intruder', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');

  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    caCert: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    rogueCert: file('rogue.crt'),
    rogueKey: file('rogue.key'),
    read: (name) => readFileSync(name),
  };
}
