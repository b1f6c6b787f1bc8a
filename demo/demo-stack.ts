import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startMockLlm, type MockLlm } from '../src/mock-llm/mock-llm-server.js';
import { extProcClient } from '../test/helpers/envoy-client.js';
import { extAuthzClient, type AuthzClient } from '../test/helpers/ext-authz-client.js';
import { TollgateProcess } from '../test/helpers/tollgate-process.js';
import { edsClient, type EdsClient } from '../test/helpers/xds-client.js';
import { demoConfigYaml } from './demo-config.js';

/** An ext_proc client, as Envoy's gRPC client for the ext_proc filter is one. */
export type ExtProcClient = ReturnType<typeof extProcClient>;

/** How the tollgate process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Everything the demo runs: two mock LLM backends in this process (the
 * cluster's two endpoints; requests go to the first), tollgate
 * as a child process (as `npm start` runs it) with a generated config in a
 * temporary folder, and the gRPC clients an Envoy would hold.
 */
export class DemoStack {
  private constructor(
    readonly folder: string,
    readonly configFile: string,
    readonly mock: MockLlm,
    readonly spare: MockLlm,
    readonly tollgate: TollgateProcess,
    readonly extProc: ExtProcClient,
    readonly authz: AuthzClient,
    readonly eds: EdsClient,
  ) {}

  /** Starts the mock and tollgate; tollgate's log line "tollgate is serving" gives its ports. */
  static async start(): Promise<DemoStack> {
    const folder = await mkdtemp(path.join(tmpdir(), 'tollgate-demo-'));
    const mock = await startMockLlm({ port: 0 });
    const spare = await startMockLlm({ port: 0 });
    const configFile = path.join(folder, 'tollgate.yaml');
    const storePath = path.join(folder, 'budgets.db');
    const mockPorts = [mock.port, spare.port];
    await writeFile(configFile, demoConfigYaml({ mockPorts, storePath }));

    let tollgate: TollgateProcess;
    try {
      tollgate = await TollgateProcess.start(['--config', configFile]);
    } catch (error) {
      await Promise.all([mock.close(), spare.close()]);
      await rm(folder, { recursive: true, force: true });
      throw error;
    }

    const port = tollgate.grpcPort;
    return new DemoStack(
      folder,
      configFile,
      mock,
      spare,
      tollgate,
      extProcClient(port),
      extAuthzClient(port),
      edsClient(port),
    );
  }

  /** `127.0.0.1:port` of the mock that takes the requests, as the config and EDS name it. */
  get mockEndpoint(): string {
    return `127.0.0.1:${this.mock.port}`;
  }

  /** GETs a JSON document from tollgate's admin port. */
  async adminJson<T>(urlPath: string): Promise<T> {
    const reply = await this.tollgate.admin(urlPath);
    if (reply.status !== 200) {
      throw new Error(`GET ${urlPath} on the admin port answered ${reply.status}: ${reply.text}`);
    }
    return JSON.parse(reply.text) as T;
  }

  /** GETs `/metrics` from tollgate's admin port. */
  async metrics(): Promise<string> {
    return (await this.tollgate.admin('/metrics')).text;
  }

  /** Changes the mock's behaviour over HTTP, as `curl -d ... /control` would. */
  async controlMock(patch: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${this.mock.url}/control`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    });
    if (!response.ok) {
      throw new Error(`POST /control on the mock answered ${response.status}`);
    }
  }

  /** The last `count` lines tollgate wrote, for a failure report. */
  logTail(count: number): string[] {
    return [...this.tollgate.stdout, ...this.tollgate.stderr].slice(-count);
  }

  /**
   * Closes the clients, sends tollgate SIGTERM and waits for it to drain and
   * exit, then stops the mocks and removes the temporary folder.
   */
  async stop(): Promise<ProcessExit> {
    this.extProc.close();
    this.authz.close();
    this.eds.close();
    this.tollgate.kill('SIGTERM');
    const exit = await this.tollgate.exited;
    await Promise.all([this.mock.close(), this.spare.close()]);
    await rm(this.folder, { recursive: true, force: true });
    return exit;
  }

  /** Stops at once after a failure: SIGKILL if tollgate has not exited, then the mocks. */
  async abort(): Promise<void> {
    this.extProc.close();
    this.authz.close();
    this.eds.close();
    this.tollgate.kill('SIGKILL');
    await this.tollgate.exited;
    await Promise.all([this.mock.close(), this.spare.close()]);
    await rm(this.folder, { recursive: true, force: true });
  }
}
