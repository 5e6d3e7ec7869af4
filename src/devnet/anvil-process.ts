import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where `@foundry-rs/anvil` installs the Linux x64 binary (the only platform this service ships for). */
export function anvilBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@foundry-rs/anvil-linux-amd64/package.json');
  return join(dirname(pkg), 'bin', 'anvil');
}

export interface AnvilProcessOptions {
  host?: string;
  /** 0 = a free port chosen by the OS (read back from anvil's banner). */
  port?: number;
  chainId?: number;
  /**
   * Seconds between blocks; 'auto' = a block per transaction (anvil's default); undefined =
   * `--no-mining` (blocks only on `evm_mine`).
   */
  blockTime?: number | 'auto';
  extraArgs?: readonly string[];
  /** How long to wait for the node to listen and answer. */
  startTimeoutMs?: number;
}

export interface AnvilProcess {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** The wrapper shell's pid (anvil is its child, in the same process group). */
  readonly pid: number;
  /** Resolves when the process tree is gone. */
  readonly exited: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs anvil under a tiny `sh` guard whose fd 3 is our pipe. A watcher reads it with `cat`: when
 * our process dies for any reason (even SIGKILL) the pipe's write end closes, `cat` ends and the
 * watcher kills anvil; a graceful stop closes the pipe the same way. The guard waits for anvil,
 * reaps the watcher (`wait`), and exits with anvil's status, so when our 'exit' event fires the
 * whole process group is gone. If anvil ends by itself (e.g. its port is taken) the guard ends the
 * watcher too, so the failure is seen at once. (A background job's stdin is /dev/null in sh,
 * hence the fd juggling.)
 */
const GUARD = [
  'exec 3<&0 0</dev/null',
  '"$0" "$@" 3<&- &',
  'a=$!',
  '{ cat <&3 >/dev/null 3<&-; kill $a 2>/dev/null; } &',
  'c=$!',
  'exec 3<&-',
  'wait $a; s=$?',
  "if kill -0 $c 2>/dev/null; then trap '' TERM; kill 0 2>/dev/null; fi",
  'wait',
  'exit $s',
].join('\n');

export async function spawnAnvil(options: AnvilProcessOptions = {}): Promise<AnvilProcess> {
  const host = options.host ?? '127.0.0.1';
  const args = ['--host', host, '--port', String(options.port ?? 0)];
  args.push('--chain-id', String(options.chainId ?? 31337));
  if (options.blockTime === undefined) args.push('--no-mining');
  else if (options.blockTime !== 'auto') args.push('--block-time', String(options.blockTime));
  args.push(...(options.extraArgs ?? []));

  const child = spawn('sh', ['-c', GUARD, anvilBinaryPath(), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Own process group: a stop can kill the whole tree, and a Ctrl-C on the terminal does not
    // race our own shutdown (the parent stops it in order).
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Keep the pipe open but never keep our event loop alive for the child alone.
  child.stdin?.on('error', () => undefined);

  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      fail(new Error(`anvil did not start within ${options.startTimeoutMs ?? 15_000} ms:\n${output}`));
    }, options.startTimeoutMs ?? 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Listening on [^\s:]+:(\d+)/.exec(output);
      if (match) {
        cleanup();
        resolve(Number(match[1]));
      }
    };
    const onExit = (code: number | null): void =>
      fail(new Error(`anvil exited (${code}) before listening:\n${output}`));
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    function fail(error: Error): void {
      cleanup();
      killTree(child);
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
  // Drain the rest so a chatty node never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();

  const httpUrl = `http://${host}:${port}`;
  await waitUntilAnswering(httpUrl, options.startTimeoutMs ?? 15_000);

  let stopping: Promise<void> | undefined;
  return {
    port,
    httpUrl,
    wsUrl: `ws://${host}:${port}`,
    pid: child.pid ?? -1,
    exited,
    stop() {
      stopping ??= (async () => {
        child.stdin?.end();
        const timer = setTimeout(() => killTree(child), 3_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

function killTree(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Polls `eth_chainId` until the node answers (it listens a moment before it serves). */
export async function waitUntilAnswering(httpUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(httpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(1_000),
      });
      if (response.ok) return;
      lastError = new Error(`HTTP ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`node at ${httpUrl} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}
