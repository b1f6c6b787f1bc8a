import {
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';

import type { DecisionEngine } from '../../engine/decision-engine.js';
import { requestIdOf } from '../../engine/request-facts.js';
import { checkInput } from './check-facts.js';
import { checkResponse } from './check-response.js';
import type { CheckRequest, CheckResponse } from './messages.js';

/** The service name Envoy's ext_authz filter calls, and gRPC health reports. */
export const EXT_AUTHZ_SERVICE = 'envoy.service.auth.v3.Authorization';

/** What the ext_authz service needs from the rest of the process. */
export interface ExtAuthzDeps {
  /** The engine each check decides with. */
  readonly engine: () => DecisionEngine;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/**
 * `envoy.service.auth.v3.Authorization/Check`: the cheaper pre-request front
 * end. It asks the same decision engine as ext_proc, whose answers it renders
 * as ext_authz messages; it never sees the response, so it neither takes a
 * breaker trial permit nor reserves budget (accounting needs ext_proc too).
 */
export class ExtAuthzService {
  private readonly checks: Counter<'result'>;

  constructor(private readonly deps: ExtAuthzDeps) {
    this.checks = new Counter({
      name: 'tollgate_extauthz_checks_total',
      help: 'ext_authz Check calls, by result (allow, deny, error)',
      labelNames: ['result'],
      registers: [deps.metrics],
    });
  }

  /** The handlers to register with the proto's service definition. */
  implementation(): UntypedServiceImplementation {
    return {
      Check: (
        call: ServerUnaryCall<CheckRequest, CheckResponse>,
        callback: sendUnaryData<CheckResponse>,
      ) => void this.check(call.request, callback),
    };
  }

  private async check(request: CheckRequest, callback: sendUnaryData<CheckResponse>) {
    const { facts, body } = checkInput(request);
    const log = this.deps.logger.child({ api: 'ext_authz', requestId: requestIdOf(facts) });

    try {
      const precheck = await this.deps.engine().check(facts, body);
      this.checks.inc({ result: precheck.kind });
      if (precheck.kind === 'deny') {
        log.debug(
          { tenant: precheck.tenant, status: precheck.answer.status },
          'request denied by tollgate',
        );
      }
      callback(null, checkResponse(precheck));
    } catch (error) {
      // A bug, not a policy outcome: Envoy applies its failure_mode_allow.
      this.checks.inc({ result: 'error' });
      log.error({ err: error }, 'an ext_authz check failed inside tollgate; see the error');
      callback({ code: status.INTERNAL, details: 'tollgate failed to decide; see its log' });
    }
  }
}
