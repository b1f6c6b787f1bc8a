import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

import { repoPath } from './repo-files.js';

/** The compiled entry point `npm start` runs. */
export const MAIN = repoPath('dist/src/main.js');

/** Flags that make tollgate listen on free loopback ports. */
export const EPHEMERAL = ['--grpc-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'];

/** How to start a tollgate process. */
export interface StartOptions {
  /** Variables to set; `undefined` removes one the test process has. */
  readonly env?: Record<string, string | undefined>;
  /** The working directory; the test process's by default. */
  readonly cwd?: string;
  /** The entry point to run; the repository's compiled `main.js` by default. */
  readonly main?: string;
  /** Wait for the "tollgate is serving" line (true by default). */
  readonly waitForServing?: boolean;
}

/** A tollgate started as its own process, as `npm start` starts it. */
export class TollgateProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  grpcPort = 0;
  adminPort = 0;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.stdout.push(line));
    createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
  }

  /**
   * Spawns `node dist/src/main.js ARGS` and, unless `waitForServing` is false,
   * waits for the "tollgate is serving" log line to learn the bound ports.
   */
  static async start(args: string[], options: StartOptions = {}): Promise<TollgateProcess> {
    const env = { ...process.env, ...options.env };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];

    const child = spawn(process.execPath, [options.main ?? MAIN, ...args], {
      env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tollgate = new TollgateProcess(child);
    if (options.waitForServing !== false) await tollgate.waitForServing();
    return tollgate;
  }

  /** GETs or POSTs a path on the admin port. */
  async admin(path: string, method = 'GET'): Promise<{ status: number; text: string }> {
    const response = await fetch(`http://127.0.0.1:${this.adminPort}${path}`, { method });
    return { status: response.status, text: await response.text() };
  }

  /** `/status`, parsed. */
  async status(): Promise<{ config: { file: string }; draining: boolean }> {
    return JSON.parse((await this.admin('/status')).text) as {
      config: { file: string };
      draining: boolean;
    };
  }

  /** Sends a signal to the process. */
  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Every stdout line parsed as JSON (non-JSON lines are skipped). */
  logLines(): Array<Record<string, unknown>> {
    return this.stdout.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  private async waitForServing(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));

    while (Date.now() < deadline && !exited) {
      const serving = this.logLines().find((line) => line.msg === 'tollgate is serving');
      if (serving) {
        this.grpcPort = Number(serving.grpcPort);
        this.adminPort = Number(serving.adminPort);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    this.child.kill('SIGKILL');
    throw new Error(`tollgate did not start:\n${[...this.stdout, ...this.stderr].join('\n')}`);
  }
}
