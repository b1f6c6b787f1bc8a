import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

import type { BreakerSet } from '../breaker/breaker-set.js';
import { isScopePart, SCOPE_PART_RULE } from '../policy/policy-name.js';
import { Scope } from '../registry/scope.js';
import { isLoopbackHost, refusalOf, type AdminAuthSettings } from './admin-auth.js';

/** What the admin port reads and controls. */
export interface AdminDeps {
  readonly metrics: Registry;
  readonly breakers: () => BreakerSet;
  /**
   * The body of `/status`; with `?namespace=NS[&service=SVC]`, `scope` is
   * that scope and the body says how each policy resolves from it.
   */
  readonly status: (scope?: Scope) => Record<string, unknown>;
  readonly isReady: () => boolean;
  readonly logger: Logger;
  /** Endpoints of other features (budgets, health, ...), each defined beside its feature. */
  readonly routes?: readonly AdminRoute[];
  /** Who may call what, read per request so that a reload can rotate the token. */
  readonly auth?: () => AdminAuthSettings;
}

/** Answers one admin request; `match` is the route's path pattern matched against the path. */
export type AdminHandler = (
  match: RegExpExecArray,
  req: IncomingMessage,
) => Promise<AdminReply> | AdminReply;

/** One admin endpoint: a method and a path pattern (anchored, without the query string). */
export interface AdminRoute {
  readonly method: 'GET' | 'POST';
  readonly path: RegExp;
  readonly handler: AdminHandler;
}

/** An admin response: JSON unless `contentType` says otherwise. */
export interface AdminReply {
  status: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

type Handler = AdminHandler;
type Reply = AdminReply;

/**
 * The admin HTTP port: `/metrics`, `/healthz`, `/readyz`, `/status`, and the
 * breaker controls. It binds to loopback unless configured otherwise.
 */
export class AdminServer {
  private readonly server: Server;
  private readonly routes: Array<{ method: string; path: RegExp; handler: Handler }>;
  private loopback = true;
  private readonly refused: Counter<'status'>;

  constructor(private readonly deps: AdminDeps) {
    this.routes = [
      { method: 'GET', path: /^\/metrics$/, handler: () => this.metrics() },
      { method: 'GET', path: /^\/healthz$/, handler: () => ({ status: 200, body: { ok: true } }) },
      { method: 'GET', path: /^\/readyz$/, handler: () => this.ready() },
      { method: 'GET', path: /^\/status$/, handler: (_match, req) => this.status(req) },
      {
        method: 'POST',
        path: /^\/breakers\/([^/]+)\/(reset|open)$/,
        handler: (match, req) =>
          this.controlBreaker(decodeURIComponent(match[1] ?? ''), match[2], req),
      },
      ...(deps.routes ?? []),
    ];
    this.refused = new Counter({
      name: 'tollgate_admin_refused_total',
      help: 'Admin requests refused for a missing or wrong token, by HTTP status',
      labelNames: ['status'],
      registers: [deps.metrics],
    });
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Listens on `host:port`; resolves with the bound port. */
  async start(address: string): Promise<number> {
    const separator = address.lastIndexOf(':');
    const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(separator + 1));
    this.loopback = isLoopbackHost(host);

    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (error: NodeJS.ErrnoException) => {
        const hint =
          error.code === 'EADDRINUSE'
            ? ' The port is taken: pick another with --admin-address or server.admin_address.'
            : '';
        reject(new Error(`cannot listen for admin HTTP on ${address}: ${error.message}.${hint}`));
      });
      this.server.listen(port, host, resolve);
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and closes idle keep-alive connections. */
  async stop(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!isDecodable(path)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'the request path is not valid percent-encoding' }));
      return;
    }

    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route =
      this.routes.find((r) => r.method === method && r.path.test(path)) ??
      this.routes.find((r) => r.path.test(path));
    let reply: Reply;

    const refusal = route && this.refusal(req, path);
    try {
      if (refusal) reply = refusal;
      else if (!route) reply = { status: 404, body: { error: `no admin endpoint at ${path}` } };
      else if (route.method !== method) reply = methodNotAllowed(path, route.method);
      else reply = await route.handler(route.path.exec(path)!, req);
    } catch (error) {
      this.deps.logger.error({ err: error, path }, 'admin request failed');
      reply = { status: 500, body: { error: 'internal error; see the tollgate log' } };
    }

    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': reply.contentType ?? 'application/json',
      ...reply.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  private refusal(req: IncomingMessage, path: string): Reply | undefined {
    const settings = this.deps.auth?.() ?? { protectReads: false };
    const refused = refusalOf(req, path, settings, this.loopback);
    if (refused) {
      this.refused.inc({ status: String(refused.status) });
      this.deps.logger.debug(
        { path, method: req.method, status: refused.status, remote: req.socket.remoteAddress },
        'admin request refused: no valid token',
      );
    }
    return refused;
  }

  private async metrics(): Promise<Reply> {
    const body = await this.deps.metrics.metrics();
    return { status: 200, body, contentType: this.deps.metrics.contentType };
  }

  private status(req: IncomingMessage): Reply {
    const query = new URL(req.url ?? '/', 'http://admin').searchParams;
    const namespace = query.get('namespace');
    const service = query.get('service');
    if (namespace === null && service === null) return { status: 200, body: this.deps.status() };

    if (namespace === null) {
      return { status: 400, body: { error: 'service needs namespace: ?namespace=NS&service=SVC' } };
    }
    const bad = [namespace, service].find((part) => part !== null && !isScopePart(part));
    if (bad !== undefined) {
      const rule = `(${SCOPE_PART_RULE})`;
      const error = `${JSON.stringify(bad)} is not a namespace or service name ${rule}`;
      return { status: 400, body: { error } };
    }

    const scope = service === null ? Scope.namespace(namespace) : Scope.service(namespace, service);
    return { status: 200, body: this.deps.status(scope) };
  }

  private ready(): Reply {
    const ready = this.deps.isReady();
    return { status: ready ? 200 : 503, body: { ready } };
  }

  private controlBreaker(name: string, action: string | undefined, req: IncomingMessage): Reply {
    const breaker = this.deps.breakers().find(name);
    if (!breaker) return { status: 404, body: { error: `no breaker named "${name}"` } };

    if (action === 'reset') breaker.reset();
    else breaker.forceOpen();

    this.deps.logger.info(
      { breaker: name, action, remote: req.socket.remoteAddress },
      'breaker changed from the admin port',
    );
    return { status: 200, body: breaker.snapshot() };
  }
}

/** False when the path's percent-encoding is broken (`%ZZ`, a cut UTF-8 sequence). */
function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function methodNotAllowed(path: string, allowed: string): Reply {
  return {
    status: 405,
    body: { error: `${path} accepts ${allowed} only` },
    headers: { allow: allowed === 'GET' ? 'GET, HEAD' : allowed },
  };
}
