import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import type { SecretValue } from '../config/secret-value.js';
import type { AdminReply } from './admin-server.js';

/** Who may use the admin port, from `server.admin_auth`. */
export interface AdminAuthSettings {
  /** The bearer token; unset when none is configured. */
  readonly token?: SecretValue;
  /** Ask the token for reads (`/metrics`, `/status`, ...) too, not only for controls. */
  readonly protectReads: boolean;
}

/** Paths always open: orchestrator probes carry no token. */
const PROBES = new Set(['/healthz', '/readyz']);

/**
 * Decides whether an admin request may go on; returns the refusal when not.
 *
 * Controls (every POST: breaker reset and force-open, budget reset) need
 * `authorization: Bearer TOKEN` when a token is configured. Without a token
 * they are open on a loopback port and refused (403) on any other, so an
 * exposed admin port never lets the network reset a budget. Reads are open
 * unless `protect_reads` asks for the token; probes are always open.
 */
export function refusalOf(
  req: IncomingMessage,
  path: string,
  settings: AdminAuthSettings,
  loopback: boolean,
): AdminReply | undefined {
  const control = req.method === 'POST';
  if (PROBES.has(path) || (!control && !settings.protectReads)) return undefined;

  const token = settings.token?.reveal();
  if (!token) {
    if (loopback || !control) return undefined;
    return {
      status: 403,
      body: {
        error:
          'the admin port listens beyond loopback, so its controls need a token: set ' +
          'server.admin_auth.token (or TOLLGATE_ADMIN_TOKEN) and send Authorization: Bearer TOKEN',
      },
    };
  }

  if (bearerOf(req) !== undefined && sameSecret(bearerOf(req)!, token)) return undefined;
  return {
    status: 401,
    body: { error: 'this admin endpoint needs Authorization: Bearer TOKEN (server.admin_auth)' },
    headers: { 'www-authenticate': 'Bearer realm="tollgate-admin"' },
  };
}

/** True when `host` (of a listen address) is a loopback address. */
export function isLoopbackHost(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1'].includes(host) || host.startsWith('127.');
}

function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

// Compares digests, so the time taken says nothing about the token's length
// or its first differing character.
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
