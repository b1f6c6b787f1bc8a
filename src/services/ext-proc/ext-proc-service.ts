import {
  status,
  type ServerDuplexStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';

import { OnceWarnings } from '../../admin/once-warnings.js';
import type { DecisionEngine } from '../../engine/decision-engine.js';
import type { Phase, ProcessingRequest, ProcessingResponse } from './messages.js';
import { MessageSequence } from './message-sequence.js';
import { ProtocolError } from './protocol-error.js';
import { SerialQueue } from './serial-queue.js';
import { StreamProcessor, type PhaseReply, type StreamEnd } from './stream-processor.js';

type ProcessCall = ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

/** Marks a message whose bytes did not decode as a ProcessingRequest. */
const UNDECODABLE = Symbol('undecodable');

type IncomingMessage = ProcessingRequest & { [UNDECODABLE]?: string };

/** What the ext_proc service needs from the rest of the process. */
export interface ExtProcDeps {
  /** The engine new streams decide with (read once per stream, at its start). */
  readonly engine: () => DecisionEngine;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/**
 * `envoy.service.ext_proc.v3.ExternalProcessor`. One gRPC stream per HTTP
 * request; the loop only receives, checks the sequence, dispatches to the
 * stream's processor and sends one reply per message.
 */
export class ExtProcService {
  private readonly streams: Counter<'end'>;
  private readonly messages: Counter<'phase'>;
  private readonly active: Gauge;
  private readonly warnings = new OnceWarnings();

  constructor(private readonly deps: ExtProcDeps) {
    this.streams = new Counter({
      name: 'tollgate_extproc_streams_total',
      help: 'ext_proc streams, by how they ended',
      labelNames: ['end'],
      registers: [deps.metrics],
    });
    this.messages = new Counter({
      name: 'tollgate_extproc_messages_total',
      help: 'ext_proc messages received, by phase',
      labelNames: ['phase'],
      registers: [deps.metrics],
    });
    this.active = new Gauge({
      name: 'tollgate_extproc_active_streams',
      help: 'ext_proc streams currently open',
      registers: [deps.metrics],
    });
  }

  /**
   * The service definition to register, from the loaded proto's. Decoding is
   * wrapped so that bytes that are not a ProcessingRequest reach the stream
   * loop as a protocol error (INVALID_ARGUMENT and a log line) instead of
   * grpc-js's silent INTERNAL.
   */
  static definition(proto: ServiceDefinition): ServiceDefinition {
    const method = proto.Process;
    if (!method) throw new Error('the ExternalProcessor proto has no Process method');

    const requestDeserialize = (bytes: Buffer): IncomingMessage => {
      try {
        return method.requestDeserialize(bytes) as ProcessingRequest;
      } catch (error) {
        return { [UNDECODABLE]: (error as Error).message };
      }
    };
    return { ...proto, Process: { ...method, requestDeserialize } };
  }

  /** The handlers to register with `Server.addService`. */
  implementation(): UntypedServiceImplementation {
    return { Process: (call: ProcessCall) => this.process(call) };
  }

  private process(call: ProcessCall): void {
    const processor = new StreamProcessor(this.deps.engine(), this.deps.logger, this.warnings);
    const sequence = new MessageSequence();
    const queue = new SerialQueue((error) => this.fail(call, undefined, error, finish));
    let ended = false;
    // Whether tollgate ended its side in answer to the client's half-close.
    let answeredHalfClose = false;
    this.active.inc();

    // Every path out of the stream goes through here exactly once, so the
    // exchange is settled once and the gauge cannot drift. Settling waits for
    // any message still being processed.
    const finish = (end: StreamEnd) => {
      if (ended) return;
      ended = true;
      this.active.dec();
      this.streams.inc({ end });
      queue.run(() => processor.finish(end));
    };

    const handle = (message: IncomingMessage): void | Promise<void> => {
      if (ended) return;

      const phase = message.request;
      try {
        const undecodable = message[UNDECODABLE];
        if (undecodable !== undefined) {
          throw new ProtocolError(`message is not a ProcessingRequest: ${undecodable}`);
        }
        if (!phase) throw new ProtocolError('ProcessingRequest has no request oneof set');
        this.messages.inc({ phase });
        sequence.accept(phase, message);

        const reply = processor.process(phase, message);
        if (reply instanceof Promise) {
          return reply.then(
            (settled) => this.send(call, message, settled, finish),
            (error: unknown) => this.fail(call, phase, error, finish),
          );
        }
        this.send(call, message, reply, finish);
      } catch (error) {
        this.fail(call, phase, error, finish);
      }
    };

    call.on('data', (message: IncomingMessage) => queue.run(() => handle(message)));

    // Envoy ends a stream by half-closing it, usually with a reset in the same
    // write, or resets it alone when the client goes; all are normal ends. A
    // half-close is answered with OK once every message before it has its
    // reply, and only after the frames read with it have been handled: a reset
    // that arrived in the same read is known by then, and the call is left
    // alone instead of being given a status no one will read.
    call.on('end', () => {
      setImmediate(() =>
        queue.run(() => {
          if (call.cancelled || call.writableEnded) return;

          answeredHalfClose = true;
          call.end();
        }),
      );
    });

    // grpc-js emits 'cancelled' once per call, when it is over: after the
    // status tollgate ended it with went out, or when the client reset the
    // stream (or the connection dropped) first. How a client ended a stream is
    // decided here, from which of the two happened, never from timing. A reset
    // that comes after tollgate answered the half-close cannot be seen: grpc-js
    // reports that call like any other answered one.
    call.on('cancelled', () => finish(answeredHalfClose ? 'half_closed' : 'cancelled'));
    call.on('error', () => finish('failed'));
  }

  private send(
    call: ProcessCall,
    message: ProcessingRequest,
    reply: PhaseReply,
    finish: (end: StreamEnd) => void,
  ): void {
    if (call.cancelled || call.writableEnded) return;

    if (!message.observability_mode) call.write(reply.response);
    if (reply.endsStream) {
      finish('completed');
      call.end();
    }
  }

  private fail(
    call: ProcessCall,
    phase: Phase | undefined,
    error: unknown,
    finish: (end: StreamEnd) => void,
  ): void {
    if (error instanceof ProtocolError) {
      this.deps.logger.warn(
        { phase, reason: error.message },
        'ext_proc stream rejected: a message Envoy would not send',
      );
      finish('protocol_error');
      if (!call.cancelled && !call.writableEnded) {
        call.emit('error', { code: error.code, details: error.message });
      }
      return;
    }

    this.deps.logger.error({ phase, err: error }, 'ext_proc stream failed inside tollgate');
    finish('failed');
    if (call.cancelled || call.writableEnded) return;
    call.emit('error', {
      code: status.INTERNAL,
      details: 'tollgate failed to process the message',
    });
  }
}
