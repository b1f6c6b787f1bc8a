import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';

/** Where the Debian package puts the server; else it is looked up on the PATH. */
const DEBIAN_REDIS = '/usr/bin/redis-server';

/** How long a started server may take to accept connections. */
const START_TIMEOUT_MS = 5000;

/** The `redis-server` executable, or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  if (existsSync(DEBIAN_REDIS)) return DEBIAN_REDIS;

  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  return dirs.map((dir) => path.join(dir, 'redis-server')).find((file) => existsSync(file));
}

/** A free TCP port on loopback (free when asked; the caller binds it right away). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP port was bound');
  return address.port;
}

async function accepts(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/**
 * A throw-away `redis-server` on a free loopback port, persistence off. It
 * can be stopped and started again on the same port, to play an outage.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    private readonly executable: string,
    /** The port it listens on, kept across restarts. */
    readonly port: number,
    /** A folder for an append-only file, so data outlives a stop; none: memory only. */
    private readonly persistDir?: string,
  ) {}

  /** The URL the budget store config uses. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts `executable` on a free port and waits until it accepts connections. */
  static async start(executable: string, persistDir?: string): Promise<RedisServer> {
    const server = new RedisServer(executable, await freeLoopbackPort(), persistDir);
    await server.restart();
    return server;
  }

  /** Starts the server again on its port (after {@link stop}); a no-op while it runs. */
  async restart(): Promise<void> {
    if (this.running) return;

    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', ''];
    const persistence = this.persistDir
      ? ['--dir', this.persistDir, '--appendonly', 'yes', '--appendfsync', 'always']
      : ['--appendonly', 'no'];
    const child = spawn(this.executable, [...args, ...persistence], { stdio: 'ignore' });
    this.child = child;

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await accepts(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server did not accept connections on port ${this.port} within 5 s`);
  }

  /**
   * Round trips clients made with scripts so far: the `calls` of EVAL and
   * EVALSHA in `INFO commandstats`. (`total_commands_processed` would also
   * count the commands a script runs inside Redis.) Read over a plain
   * socket, so a bench can tell how many round trips the budget store makes.
   */
  async scriptCalls(): Promise<number> {
    const text = await this.info('commandstats');
    let calls = 0;
    for (const match of text.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) {
      calls += Number(match[1]);
    }
    return calls;
  }

  /** The text of `INFO <section>`. */
  private async info(section: string): Promise<string> {
    const socket = connect(this.port, '127.0.0.1');
    socket.setEncoding('utf8');
    socket.write(`INFO ${section}\r\n`);

    let text = '';
    try {
      for await (const chunk of socket as AsyncIterable<string>) {
        text += chunk;
        const header = /^\$(\d+)\r\n/.exec(text);
        if (header && Buffer.byteLength(text) >= header[0].length + Number(header[1]) + 2) break;
      }
    } finally {
      socket.destroy();
    }
    return text;
  }

  /**
   * Freezes the server (SIGSTOP): connections stay open and commands are
   * read by the kernel but not answered, as with a Redis stuck on a slow
   * disk or a long script. {@link resume} lets it run the queued commands.
   */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a {@link pause}d server run again (SIGCONT). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops the server and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!this.running || !child) return;

    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await exited;
  }

  private get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && !this.child.signalCode;
  }
}

/**
 * A started server, or undefined (with a line on stderr) when `redis-server`
 * is not installed, so that Redis tests can skip with a clear reason.
 */
export async function startRedisServer(
  options: { persistDir?: string } = {},
): Promise<RedisServer | undefined> {
  const executable = findRedisServer();
  if (!executable) {
    process.stderr.write('redis-server is not installed: the Redis tests are skipped\n');
    return undefined;
  }
  return RedisServer.start(executable, options.persistDir);
}
