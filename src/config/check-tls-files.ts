import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { ConfigProblem } from './config-error.js';
import type { TlsConfig } from './tollgate-config.js';

const TLS_PATH = 'server.tls';

/**
 * Reads the TLS files a config names and checks that each is what its key
 * says: a PEM certificate, a PEM private key that matches it, a PEM CA bundle.
 * Run at load, so that a bad file is a config problem naming its key rather
 * than a listener failure after start-up.
 */
export function checkTlsFiles(tls: TlsConfig | undefined): ConfigProblem[] {
  if (!tls) return [];

  const problems: ConfigProblem[] = [];
  const cert = readPem(tls.certFile, 'cert_file', problems, (pem) => new X509Certificate(pem));
  const key = readPem(tls.keyFile, 'key_file', problems, (pem) => createPrivateKey(pem));
  if (tls.clientCaFile) {
    readPem(tls.clientCaFile, 'client_ca_file', problems, (pem) => new X509Certificate(pem));
  }

  if (cert && key && !cert.checkPrivateKey(key as KeyObject)) {
    problems.push({
      path: `${TLS_PATH}.key_file`,
      message: `${tls.keyFile} is not the private key of the certificate in ${tls.certFile}`,
    });
  }
  return problems;
}

function readPem<T>(
  file: string,
  key: string,
  problems: ConfigProblem[],
  parse: (pem: Buffer) => T,
): T | undefined {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push({ path: `${TLS_PATH}.${key}`, message: `cannot read ${file} (${reason})` });
    return undefined;
  }

  try {
    return parse(pem);
  } catch {
    const what = key === 'key_file' ? 'a PEM private key' : 'a PEM certificate';
    problems.push({ path: `${TLS_PATH}.${key}`, message: `${file} is not ${what}` });
    return undefined;
  }
}
