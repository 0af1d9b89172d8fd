import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'undici';

/** A process the benchmark started; stopped by its own PID only. */
export interface Service {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const HAS_TASKSET = existsSync('/usr/bin/taskset');

/** A free loopback port (bound and released; good enough for a benchmark on an idle machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Spawns `node <args>`, optionally pinned to one CPU; stdout goes to `logFile` or /dev/null. */
export function spawnNode(args: string[], cpu: number | undefined, logFile?: string): ChildProcess {
  const out = openSync(logFile ?? '/dev/null', 'a');
  const command = cpu !== undefined && HAS_TASKSET ? 'taskset' : process.execPath;
  const fullArgs = cpu !== undefined && HAS_TASKSET ? ['-c', String(cpu), process.execPath, ...args] : args;
  return spawn(command, fullArgs, { stdio: ['ignore', out, 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
}

/** Waits until `url` answers any HTTP status, or fails after `timeoutMs`. */
export async function waitUntilUp(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stderr = '';
  child.stderr?.on('data', (part: Buffer) => (stderr += part.toString()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited early (${child.exitCode}): ${stderr.slice(-2000)}`);
    try {
      const response = await request(url, { method: 'GET' });
      await response.body.dump();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not come up: ${stderr.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export function serviceFor(name: string, url: string, child: ChildProcess): Service {
  return {
    name,
    url,
    pid: child.pid ?? -1,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Resident memory of a process in MB, from /proc (Linux). */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

/** Clock ticks a second in /proc's times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU time (user and system, all threads) of a process and of its children, in microseconds,
 * from /proc (Linux; undefined where there is none, or the process is gone). Children count
 * because nginx serves from a worker process.
 */
export async function cpuMicros(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the full line (11 and 12 after the command name).
  let micros = ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const children = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const child of children.split(' ').filter(Boolean)) micros += (await cpuMicros(Number(child))) ?? 0;
  }
  return micros;
}
