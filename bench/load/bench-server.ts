import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

import type { CpuUsageAnswer } from './cpu-usage-reporter.js';

/** The compiled tollgate entry point, beside this file in the same output folder. */
export const TOLLGATE_MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** The compiled no-op ext_proc server (the floor). */
export const NOOP_SERVER = fileURLToPath(new URL('./noop-server.js', import.meta.url));

const CPU_REPORTER = new URL('./cpu-usage-reporter.js', import.meta.url).href;

/** How to start one server process. */
export interface ServerLaunch {
  /** A name for messages. */
  readonly name: string;
  /** The compiled script to run. */
  readonly script: string;
  readonly args: readonly string[];
  /** Extra Node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** How long start-up may take. */
  readonly startTimeoutMs?: number;
}

/** A server's CPU time and memory at one moment. */
export interface CpuSnapshot {
  /** User plus system CPU time, microseconds. */
  readonly cpuMicros: number;
  readonly rssBytes: number;
}

const KEPT_LINES = 40;

/**
 * A server (tollgate or the floor) in its own process, with the CPU usage
 * reporter preloaded. It is ready when it prints a JSON line with `grpcPort`
 * (tollgate's "tollgate is serving" line; the floor prints the same field).
 */
export class BenchServer {
  /** The bound gRPC port. */
  grpcPort = 0;
  /** The bound admin port (tollgate only; 0 for the floor). */
  adminPort = 0;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private readonly lastLines: string[] = [];
  private pendingCpu: Array<(answer: CpuUsageAnswer) => void> = [];

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
    child.on('message', (message: CpuUsageAnswer) => {
      if (message?.type === 'cpu-usage') this.pendingCpu.shift()?.(message);
    });
  }

  /** Spawns the server and waits until it serves; throws with its last output if it does not. */
  static async start(launch: ServerLaunch): Promise<BenchServer> {
    const flags = ['--import', CPU_REPORTER, ...(launch.nodeFlags ?? [])];
    const child = spawn(process.execPath, [...flags, launch.script, ...launch.args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const server = new BenchServer(launch.name, child);
    await server.waitForServing(launch.startTimeoutMs ?? 15_000);
    return server;
  }

  /** The loopback target for the load driver. */
  get target(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  /** The server's own CPU time so far, from `process.cpuUsage()` inside it. */
  async cpu(): Promise<CpuSnapshot> {
    const answer = new Promise<CpuUsageAnswer>((resolve) => this.pendingCpu.push(resolve));
    this.child.send({ type: 'cpu-usage' });
    const exited = this.exited.then(() => {
      throw new Error(`${this.name} exited while asked for its CPU usage:\n${this.output()}`);
    });
    const usage = await Promise.race([answer, exited]);
    return { cpuMicros: usage.userMicros + usage.systemMicros, rssBytes: usage.rssBytes };
  }

  /** GETs a path on the admin port (tollgate only). */
  async admin(path: string): Promise<{ status: number; text: string }> {
    const response = await fetch(`http://127.0.0.1:${this.adminPort}${path}`);
    return { status: response.status, text: await response.text() };
  }

  /** The last lines the server printed, for error messages. */
  output(): string {
    return this.lastLines.join('\n');
  }

  /** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;

    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private keep(line: string): void {
    this.lastLines.push(line);
    if (this.lastLines.length > KEPT_LINES) this.lastLines.shift();
  }

  private async waitForServing(timeoutMs: number): Promise<void> {
    const serving = new Promise<void>((resolve) => {
      const onLine = (line: string) => {
        this.keep(line);
        const ports = portsOf(line);
        if (ports && this.grpcPort === 0) {
          this.grpcPort = ports.grpcPort;
          this.adminPort = ports.adminPort;
          resolve();
        }
      };
      createInterface({ input: this.child.stdout! }).on('line', onLine);
      createInterface({ input: this.child.stderr! }).on('line', (line) => this.keep(line));
    });

    let timer: NodeJS.Timeout | undefined;
    const failed = Promise.race([
      this.exited.then(({ code }) => `exited with code ${code}`),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`did not serve within ${timeoutMs} ms`), timeoutMs);
      }),
    ]).then((why) => {
      throw new Error(`${this.name} ${why}:\n${this.output()}`);
    });

    try {
      await Promise.race([serving, failed]);
    } catch (error) {
      this.child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
    failed.catch(() => undefined);
  }
}

function portsOf(line: string): { grpcPort: number; adminPort: number } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const fields = JSON.parse(line) as { grpcPort?: unknown; adminPort?: unknown };
    if (typeof fields.grpcPort !== 'number') return undefined;
    return { grpcPort: fields.grpcPort, adminPort: Number(fields.adminPort ?? 0) };
  } catch {
    return undefined;
  }
}
