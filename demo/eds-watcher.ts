import type { DiscoveryResponse } from '../src/services/eds/discovery-messages.js';
import { decodeAssignment, type DecodedEndpoint } from '../test/helpers/assignment-decoder.js';
import {
  sotwAck,
  sotwRequest,
  XdsStream,
  type EdsClient,
  type SotwStream,
} from '../test/helpers/xds-client.js';
import { DemoCheckFailed } from './narrator.js';

/** One EDS push as the demo shows it: the endpoints and when it arrived. */
export interface EdsUpdate {
  readonly endpoints: readonly DecodedEndpoint[];
  /** `Date.now()` when it arrived. */
  readonly receivedAt: number;
}

const FIRST_ANSWER_MS = 5000;

/**
 * An Envoy's EDS subscription to one cluster over a state-of-the-world
 * `StreamEndpoints` stream: the node on the first request, then an ACK
 * (version and nonce echoed) for every response, as Envoy sends them.
 */
export class EdsWatcher {
  private constructor(
    private readonly stream: SotwStream,
    private readonly cluster: string,
  ) {}

  /** Subscribes to `cluster` and resolves with the watcher and tollgate's first answer. */
  static async subscribe(
    client: EdsClient,
    cluster: string,
  ): Promise<{ watcher: EdsWatcher; first: EdsUpdate }> {
    const watcher = new EdsWatcher(new XdsStream(client.StreamEndpoints()), cluster);
    watcher.stream.send(sotwRequest([cluster], { node: true }));
    const first = await watcher.next(FIRST_ANSWER_MS);
    if (!first) {
      await watcher.close();
      throw new DemoCheckFailed(
        `tollgate sent no EDS answer for ${cluster} in ${FIRST_ANSWER_MS} ms`,
      );
    }
    return { watcher, first };
  }

  /**
   * Reads pushes (ACKing each) until `wanted` holds for one; throws, naming
   * `what` was awaited, when none does within `timeoutMs`.
   */
  async until(
    wanted: (update: EdsUpdate) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<EdsUpdate> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const update = left > 0 ? await this.next(left) : undefined;
      if (!update) {
        throw new DemoCheckFailed(`no EDS push of ${this.cluster} with ${what} in ${timeoutMs} ms`);
      }
      if (wanted(update)) return update;
    }
  }

  /** Ends the subscription, as an Envoy that goes away does. */
  async close(): Promise<void> {
    await this.stream.cancel();
  }

  /** The next push, ACKed; undefined when none arrives in time or the stream ended. */
  private async next(timeoutMs: number): Promise<EdsUpdate | undefined> {
    let response: DiscoveryResponse;
    try {
      response = await this.stream.next(timeoutMs);
    } catch {
      return undefined;
    }
    const receivedAt = Date.now();
    this.stream.send(sotwAck(response, [this.cluster]));

    const assignment = decodeAssignment(response.resources[0]);
    return { endpoints: assignment.endpoints, receivedAt };
  }
}
