import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { runCli, startedAddress, type CliRun } from './cli.js';

const KEY = 'bb-crash-key-0123456789';
const CONNECTIONS = 20;
/** The kill comes mid-load: after this long and this many completed requests (a busy machine is slow to warm up)... */
const KILL_AFTER_MS = 800;
const KILL_AFTER_COMPLETED = 100;
/** ...or at this bound whatever happened. */
const KILL_BY_MS = 10_000;

export interface CrashOutcome {
  completed: Set<string>;
  /** Completed requests with no ledger row right after the kill (they can only be in the outbox). */
  missingBefore: number;
  /** Completed requests with no ledger row after the restart had time to replay. */
  missing: string[];
  /** Request ids stored more than once. */
  duplicated: string[];
  /** What the restarted gateway said it replayed from the outbox (0 when it said nothing). */
  replayed: number;
  summary: string;
  /** Exit code of the restarted gateway after SIGTERM. */
  secondExit: number | null;
  secondStderr: string;
}

/**
 * Runs OpenAI-client load (plain and streamed, 20 connections) through a gateway, kills it with
 * SIGKILL mid-load, restarts it on the same files and reads the ledger rows back with `readRows`.
 * `storeYaml` is the config's `store:` line; the shipper is slowed down so whatever goes through
 * the outbox is still there at the kill. Processes it started are tracked in `runs`.
 */
/** `connections`: 1 sends one request at a time, so each is alone in flight and its record is written at once, not in a group. */
export async function crashUnderLoad(dir: string, storeYaml: string, readRows: () => Promise<Map<string, number>>, runs: CliRun[], connections = CONNECTIONS): Promise<CrashOutcome> {
  const configPath = join(dir, 'gateway.yaml');
  await writeFile(
    configPath,
    `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 2000, watch_config: false }
auth: { api_keys: [{ name: crash, key: ${KEY} }] }
${storeYaml}
logging: { level: info, requests: false }
ledger: { flush_ms: 60000, batch_size: 10000, outbox_path: ${JSON.stringify(join(dir, 'outbox.db'))} }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 16 }, tokens_per_second: 1600 }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
`,
  );
  const first = runCli(['start', '--config', configPath]);
  runs.push(first);
  const address = await startedAddress(first);
  const client = new OpenAI({ apiKey: KEY, baseURL: `${address}/v1`, maxRetries: 0, timeout: 5_000 });

  const completed = new Set<string>();
  let started = 0;
  let failed = 0;
  const loadStarted = Date.now();
  const stopAt = loadStarted + KILL_BY_MS + 1_000;
  const worker = async (w: number) => {
    for (let i = 0; Date.now() < stopAt; i += 1) {
      const id = `crash-${w}-${i}`;
      started += 1;
      try {
        if (i % 2 === 0) {
          await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': id } });
          completed.add(id);
        } else {
          // A stream counts as completed only when its closing [DONE] arrived.
          const response = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers: { 'x-request-id': id } }).asResponse();
          const text = await response.text();
          if (/data: \[DONE\]\s*$/.test(text)) completed.add(id);
          else failed += 1;
        }
      } catch {
        failed += 1;
        // The gateway is gone: stop this connection's loop early.
        if (first.child.exitCode !== null || first.child.signalCode !== null) return;
      }
    }
  };
  const load = Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  while (Date.now() - loadStarted < KILL_BY_MS && (Date.now() - loadStarted < KILL_AFTER_MS || completed.size < KILL_AFTER_COMPLETED)) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  first.child.kill('SIGKILL');
  await first.exited;
  await load;
  if (first.child.signalCode !== 'SIGKILL') throw new Error('the first gateway was not killed by SIGKILL');
  if (completed.size < KILL_AFTER_COMPLETED) throw new Error(`only ${completed.size} requests completed before the kill`);
  const beforeRestart = await readRows();
  const missingBefore = [...completed].filter((id) => !beforeRestart.has(id)).length;

  const second = runCli(['start', '--config', configPath]);
  runs.push(second);
  await startedAddress(second);
  const deadline = Date.now() + 20_000;
  let rows = await readRows();
  while ([...completed].some((id) => !rows.has(id)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    rows = await readRows();
  }
  second.child.kill('SIGTERM');
  const secondExit = await second.exited;
  rows = await readRows();

  const missing = [...completed].filter((id) => !rows.has(id));
  const duplicated = [...rows].filter(([, n]) => n !== 1).map(([id]) => id);
  const extra = [...rows.keys()].filter((id) => !completed.has(id)).length;
  const replayLine = second.logLines().find((line) => line.msg === 'ledger: replaying records left in the outbox');
  const summary = `${started} started, ${completed.size} completed, ${failed} failed or cut; ${missingBefore} completed ones were only in the outbox at the kill; ${extra} extra rows (settled, not seen complete)`;
  return { completed, missingBefore, missing, duplicated, replayed: Number(replayLine?.waiting ?? 0), summary, secondExit, secondStderr: second.output().stderr };
}
