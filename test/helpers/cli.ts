import { spawn, type ChildProcess } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface CliRun {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
  /** The JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Waits for a log line that `match` accepts (only lines after the first `after` ones count). */
  waitForLog(match: (line: Record<string, unknown>) => boolean, options?: { after?: number; timeoutMs?: number }): Promise<Record<string, unknown>>;
}

/** Runs `breakerbox <args>` from the sources, as a child process of the test. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logLines = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    logLines,
    async waitForLog(match, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 15_000);
      for (;;) {
        const found = logLines().slice(options.after ?? 0).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no such log line; stdout:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}

/** Waits for the startup line and returns the gateway's address. */
export async function startedAddress(run: CliRun): Promise<string> {
  const line = await run.waitForLog((entry) => typeof entry.address === 'string');
  return line.address as string;
}

/** A finished CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `breakerbox <args>` to its end; BB_ADMIN_KEY is unset unless the test passes it. */
export async function runCliToEnd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const run = runCli(args, { BB_ADMIN_KEY: '', ...env });
  await new Promise((resolve) => run.child.on('close', resolve));
  return { code: run.child.exitCode, ...run.output() };
}
