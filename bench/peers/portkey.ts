import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

/**
 * Portkey's open-source gateway as a benchmark peer. It is installed on demand into
 * bench/.peers/portkey/ (git-ignored, never a project dependency) and run as a separate node
 * process through portkey-launcher.mjs, which forces it to listen on 127.0.0.1 only (Portkey
 * itself listens on every interface).
 */

export interface PeerProcess {
  name: string;
  /** Base URL of the running peer, without a trailing slash; clients POST to `${url}/v1/chat/completions`. */
  url: string;
  pid: number;
  /** Request headers a client must send so the peer forwards to the configured upstream. */
  headers: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartPortkeyOptions {
  /** OpenAI-compatible base URL including the version path, e.g. http://127.0.0.1:9000/v1. */
  upstreamBaseUrl: string;
  upstreamApiKey: string;
  /** Port to listen on (127.0.0.1); a free one is picked when absent. */
  port?: number;
  /** Pin the process to this CPU with `taskset -c` when it is a number and taskset exists. */
  cpu?: number | undefined;
  log?: (line: string) => void;
}

export const PORTKEY_PACKAGE = '@portkey-ai/gateway';
export const PORTKEY_VERSION = '1.15.2';
/** Portkey's streaming breaks with newer hono / @hono/node-server, so both are pinned. */
const OVERRIDES = { hono: '4.9.7', '@hono/node-server': '1.13.5' } as const;

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const LOOPBACK = '127.0.0.1';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const installDir = path.join(repoRoot, 'bench', '.peers', 'portkey');
const launcherPath = fileURLToPath(new URL('./portkey-launcher.mjs', import.meta.url));

const manifest = {
  name: 'breakerbox-bench-peer-portkey',
  private: true,
  description: 'Installed on demand by bench/peers/portkey.ts; not part of Breakerbox.',
  dependencies: { [PORTKEY_PACKAGE]: PORTKEY_VERSION },
  overrides: { ...OVERRIDES },
};

let installing: Promise<string> | undefined;

/**
 * Makes sure the pinned gateway is installed under bench/.peers/portkey/ and returns the path of its
 * entry script. Installs (npm) only when the pinned versions are not already there.
 */
export function ensurePortkeyInstalled(log: (line: string) => void = () => {}): Promise<string> {
  installing ??= install(log).finally(() => {
    installing = undefined;
  });
  return installing;
}

async function install(log: (line: string) => void): Promise<string> {
  await mkdir(installDir, { recursive: true });
  const manifestPath = path.join(installDir, 'package.json');
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  const current = await readFile(manifestPath, 'utf8').catch(() => undefined);
  if (current !== manifestText) await writeFile(manifestPath, manifestText);

  if (current === manifestText && (await installedCorrectly())) {
    return entryScript();
  }

  log(`[portkey] installing ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} into ${installDir}`);
  const started = Date.now();
  // --ignore-scripts: the only install script in the tree is the gateway's own `patch-package`
  // postinstall, which has no patches to apply in the published package.
  const args = ['install', '--no-audit', '--no-fund', '--ignore-scripts'];
  const code = await run('npm', args, installDir, (line) => log(`[portkey npm] ${line}`));
  if (code !== 0) {
    throw new Error(
      `Installing ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} failed: \`npm ${args.join(' ')}\` in ${installDir} ` +
        `exited with ${code} (see the log above)`,
    );
  }
  if (!(await installedCorrectly())) {
    throw new Error(
      `Installing ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} into ${installDir} finished but the installed ` +
        `versions are wrong (expected the gateway at ${PORTKEY_VERSION}, hono ${OVERRIDES.hono}, ` +
        `@hono/node-server ${OVERRIDES['@hono/node-server']})`,
    );
  }
  log(`[portkey] installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return entryScript();
}

async function readVersion(packageJsonPath: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(packageJsonPath, 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : undefined;
  } catch {
    return undefined;
  }
}

/** Version of `name` as the gateway resolves it (its own nested copy first, then the top level). */
async function versionSeenByGateway(name: string): Promise<string | undefined> {
  const gatewayDir = path.join(installDir, 'node_modules', PORTKEY_PACKAGE);
  return (
    (await readVersion(path.join(gatewayDir, 'node_modules', name, 'package.json'))) ??
    (await readVersion(path.join(installDir, 'node_modules', name, 'package.json')))
  );
}

async function installedCorrectly(): Promise<boolean> {
  const gateway = await readVersion(path.join(installDir, 'node_modules', PORTKEY_PACKAGE, 'package.json'));
  if (gateway !== PORTKEY_VERSION) return false;
  for (const [name, version] of Object.entries(OVERRIDES)) {
    if ((await versionSeenByGateway(name)) !== version) return false;
  }
  return existsSync(await entryScript());
}

async function entryScript(): Promise<string> {
  const gatewayDir = path.join(installDir, 'node_modules', PORTKEY_PACKAGE);
  let bin: unknown;
  try {
    bin = (JSON.parse(await readFile(path.join(gatewayDir, 'package.json'), 'utf8')) as { bin?: unknown }).bin;
  } catch {
    bin = undefined;
  }
  const relative = typeof bin === 'string' ? bin : 'build/start-server.js';
  return path.join(gatewayDir, relative);
}

/** Runs a command to completion, passing each output line to `onLine`; resolves with its exit code. */
function run(command: string, args: string[], cwd: string, onLine: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    forwardLines(child, onLine);
    child.once('error', (error) =>
      reject(new Error(`Installing ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} failed: could not run ${command}: ${error.message}`)),
    );
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function forwardLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let pending = '';
    stream.setEncoding('utf8');
    const emit = (raw: string) => {
      // Portkey draws a spinner with \r and colours its banner; keep the log plain.
      // eslint-disable-next-line no-control-regex
      const line = raw.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').trimEnd();
      if (line.trim()) onLine(line);
    };
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split(/\r\n|\n|\r/);
      pending = parts.pop() ?? '';
      for (const part of parts) emit(part);
    });
    stream.on('end', () => {
      if (pending) emit(pending);
      pending = '';
    });
  }
}

function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('Could not pick a free port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True once GET / answers (Portkey replies 200 "AI Gateway says hey!"). */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await request(`${url}/`, {
      method: 'GET',
      headersTimeout: 1_000,
      bodyTimeout: 1_000,
      reset: true, // no keep-alive socket left behind in the global pool
    });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Stops exactly the process we started: SIGTERM, then SIGKILL if it has not exited in time. */
async function terminate(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  if (await waitForExit(child, STOP_TIMEOUT_MS)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(child, STOP_TIMEOUT_MS);
}

/** Headers that make Portkey forward an OpenAI chat completion to `upstreamBaseUrl`. */
export function portkeyHeaders(upstreamBaseUrl: string, upstreamApiKey: string): Record<string, string> {
  return {
    // Portkey's OpenAI provider, with its base URL (normally https://api.openai.com/v1) replaced
    // by the custom host; it appends /chat/completions.
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': upstreamBaseUrl.replace(/\/+$/, ''),
    // Portkey takes the provider key from the client's Authorization header.
    authorization: `Bearer ${upstreamApiKey}`,
  };
}

export async function startPortkey(options: StartPortkeyOptions): Promise<PeerProcess> {
  const log = options.log ?? (() => {});
  const upstream = new URL(options.upstreamBaseUrl);
  const entry = await ensurePortkeyInstalled(log);
  const port = options.port ?? (await freePort());
  const url = `http://${LOOPBACK}:${port}`;

  const nodeArgs = [launcherPath, entry, `--port=${port}`, '--headless', '--exit-on-stdin-close'];
  let command = process.execPath;
  let args = nodeArgs;
  if (typeof options.cpu === 'number') {
    const taskset = findOnPath('taskset');
    if (taskset) {
      // taskset execs node in place, so the PID we get is the gateway's own.
      command = taskset;
      args = ['-c', String(options.cpu), process.execPath, ...nodeArgs];
    } else {
      log(`[portkey] taskset not found; not pinning to CPU ${options.cpu}`);
    }
  }

  // Portkey refuses custom hosts that resolve to private or loopback addresses unless they are in
  // TRUSTED_CUSTOM_HOSTS (default: localhost, 127.0.0.1, ::1, host.docker.internal); setting the
  // variable replaces that default, so the upstream's host is added to it explicitly.
  const trusted = new Set(['localhost', '127.0.0.1', '::1', upstream.hostname.toLowerCase()]);
  const env: NodeJS.ProcessEnv = { ...process.env, TRUSTED_CUSTOM_HOSTS: [...trusted].join(',') };
  delete env.REDIS_CONNECTION_STRING; // keep its in-memory caches; never talk to a Redis here
  delete env.NODE_OPTIONS; // e.g. tsx's loader, inherited from the benchmark runner

  log(`[portkey] starting on ${url}${command === process.execPath ? '' : ` (pinned to CPU ${options.cpu})`}`);
  const child = spawn(command, args, { cwd: installDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const recent: string[] = [];
  // The launcher prints this once the gateway is bound, so a foreign server that happens to
  // answer on the same port is never mistaken for ours.
  const boundLine = `portkey-launcher: listening on ${LOOPBACK}:${port}`;
  let bound = false;
  forwardLines(child, (line) => {
    if (line === boundLine) bound = true;
    if (/Starting AI Gateway\.\.\.$/.test(line)) return; // spinner frames
    recent.push(line);
    if (recent.length > 20) recent.shift();
    log(`[portkey] ${line}`);
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`Could not start Portkey: ${(await spawnError).message}`);
  }

  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let ready = false;
  while (!exited() && Date.now() < deadline) {
    if (bound && (await answers(url))) {
      ready = true;
      break;
    }
    await sleep(100);
  }
  if (!ready) {
    const why = exited()
      ? `exited (${child.exitCode ?? child.signalCode}) before answering`
      : `did not answer on ${url} within ${READY_TIMEOUT_MS / 1000} s`;
    await terminate(child, pid);
    const tail = recent.length ? `; last output:\n${recent.join('\n')}` : '';
    throw new Error(`Portkey ${why}${tail}`);
  }
  log(`[portkey] ready on ${url} (pid ${pid})`);

  let stopping: Promise<void> | undefined;
  return {
    name: 'portkey',
    url,
    pid,
    headers: portkeyHeaders(options.upstreamBaseUrl, options.upstreamApiKey),
    stop() {
      stopping ??= terminate(child, pid).then(() => {
        child.stdin?.destroy();
        log(`[portkey] stopped (pid ${pid})`);
      });
      return stopping;
    },
  };
}
