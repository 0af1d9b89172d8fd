import autocannon from 'autocannon';
import { Agent, Pool, request } from 'undici';
import { cpuMicros, rssMb } from './processes.js';

/** Where and how to send a chat completion to one system under test. */
export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The chat body this target expects (model names differ between gateway and upstream). */
  body: (extra?: Record<string, unknown>) => string;
}

export interface ThroughputResult {
  rps: number;
  /** CPU time of the system's process (children included) per request, when its pid was given. */
  cpuUsPerReq?: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/**
 * Requests per second at `connections` concurrent connections (autocannon, non-streaming), and
 * with `pid` the CPU the system spent a request: steadier than req/s on a noisy host, and what
 * throughput on one pinned core comes down to.
 */
export async function throughput(target: Target, connections: number, durationS: number, pid?: number): Promise<ThroughputResult> {
  const cpuBefore = pid === undefined ? undefined : await cpuMicros(pid);
  const result = await autocannon({
    url: `${target.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body(),
    connections,
    duration: durationS,
  });
  const cpuAfter = pid === undefined ? undefined : await cpuMicros(pid);
  const cpuUsPerReq = cpuBefore === undefined || cpuAfter === undefined || result.requests.total === 0 ? undefined : (cpuAfter - cpuBefore) / result.requests.total;
  return {
    rps: result.requests.average,
    ...(cpuUsPerReq === undefined ? {} : { cpuUsPerReq }),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * Loads `target` at `connections` in one-second slices until its rate settles (`inARow` slices in a
 * row within `tolerance` of each other), or for `maxSlices` slices; returns every slice. A fresh
 * Node process needs seconds of load before the JIT has compiled its hot path: a fresh Breakerbox
 * served 308, 927, 1,997, 3,167 and 3,337 req/s in its first five seconds at 50 connections, the
 * baseline proxy 2,002, 7,586, 10,564, 12,500 and 13,012 (29 November, sixth session). A gateway
 * in production runs for days, so what counts is the rate after this. Two slices in a row can
 * agree while a system is still warming (Portkey went 193 then 213), so the full run asks three.
 */
export async function warmUp(target: Target, connections: number, maxSlices: number, inARow: number, pid?: number, tolerance = 0.1): Promise<ThroughputResult[]> {
  const slices: ThroughputResult[] = [];
  while (slices.length < maxSlices) {
    slices.push(await throughput(target, connections, 1, pid));
    const last = slices.slice(-inARow).map((slice) => slice.rps);
    if (last.length === inARow && Math.max(...last) - Math.min(...last) <= tolerance * Math.max(...last)) break;
  }
  return slices;
}

/** Per-request latency, one request at a time over one keep-alive connection, in microseconds. */
export async function sequentialLatency(target: Target, count: number): Promise<number[]> {
  const pool = new Pool(target.url, { connections: 1 });
  const headers = { 'content-type': 'application/json', ...target.headers };
  const body = target.body();
  const samples: number[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const started = process.hrtime.bigint();
      const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`${target.name}: HTTP ${response.statusCode}`);
      samples.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  } finally {
    await pool.close();
  }
  return samples;
}

export interface StreamTiming {
  ttftUs: number[];
  gapUs: number[];
  complete: number;
}

/**
 * Streams one at a time, interleaved stream by stream across the targets (in an order that
 * rotates, so no target always follows the same one): time to the first content chunk, and the
 * gaps between chunks as the client sees them. The upstream paces chunks `intervalMs` apart.
 * Fine interleaving cancels drift over the run; it does not remove what differs between two
 * processes: two gateways of the same build, measured this way in one run, differed by about
 * 100 µs in median time to first token (29 November).
 */
export async function streamTiming(targets: readonly Target[], count: number, chunks: number, intervalMs: number): Promise<Map<string, StreamTiming>> {
  const pools = new Map(targets.map((target) => [target.name, new Pool(target.url, { connections: 1 })]));
  const timings = new Map(targets.map((target): [string, StreamTiming] => [target.name, { ttftUs: [], gapUs: [], complete: 0 }]));
  try {
    for (let round = 0; round < count; round += 1) {
      for (let step = 0; step < targets.length; step += 1) {
        const target = targets[(round + step) % targets.length] as Target;
        await timeOneStream(target, pools.get(target.name) as Pool, timings.get(target.name) as StreamTiming, chunks, intervalMs);
      }
    }
  } finally {
    await Promise.all([...pools.values()].map((pool) => pool.close()));
  }
  return timings;
}

async function timeOneStream(target: Target, pool: Pool, timing: StreamTiming, chunks: number, intervalMs: number): Promise<void> {
  const headers = { 'content-type': 'application/json', ...target.headers };
  const body = target.body({ stream: true, bench: { chunks, interval_ms: intervalMs } });
  const started = process.hrtime.bigint();
  const response = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
  let last: bigint | undefined;
  let text = '';
  for await (const part of response.body) {
    const now = process.hrtime.bigint();
    const piece = (part as Buffer).toString();
    text += piece;
    if (!piece.includes('" token"')) continue;
    if (last === undefined) timing.ttftUs.push(Number(now - started) / 1000);
    else timing.gapUs.push(Number(now - last) / 1000);
    last = now;
  }
  if (text.includes('[DONE]')) timing.complete += 1;
}

export interface ConcurrentStreamsResult {
  requested: number;
  completed: number;
  failed: number;
  /** Why streams failed: error code or HTTP status -> count. */
  failures: Record<string, number>;
  peakRssMb: number;
  baselineRssMb: number;
  durationMs: number;
  /** Most streams open at one moment: answered (headers in) and not yet ended, as the client saw them. */
  peakOpen: number;
}

/** One stream request of a concurrent run; `holdMs` is how long its first token should wait. */
export type HeldStreamRequest = (holdMs: number) => { body: string; headers?: Record<string, string> };

/**
 * Opens `count` streams at once, sampling the gateway's RSS meanwhile. Each request asks its
 * upstream to hold the first token until one moment, `holdMs` after the start, so that every
 * stream is admitted before any ends: without it, on a slow host the first streams finished before
 * the last were admitted and no more than about half were ever open together. `peakOpen` counts
 * the streams answered and not yet ended at one moment, as the client saw them. Completed means
 * the client saw `[DONE]`.
 */
export async function concurrentStreams(target: Target, count: number, pid: number, streamRequest: HeldStreamRequest, holdMs: number): Promise<ConcurrentStreamsResult> {
  const agent = new Agent({ connections: count + 10, keepAliveTimeout: 10_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const baselineRssMb = await rssMb(pid);
  let peakRssMb = baselineRssMb;
  const sampler = setInterval(() => {
    void rssMb(pid).then((value) => (peakRssMb = Math.max(peakRssMb, value)));
  }, 100);
  const started = Date.now();
  const releaseAt = started + holdMs;
  let open = 0;
  let peakOpen = 0;
  const one = async (): Promise<boolean> => {
    const held = streamRequest(Math.max(0, releaseAt - Date.now()));
    const headers = { 'content-type': 'application/json', ...target.headers, ...held.headers };
    const response = await request(`${target.url}/v1/chat/completions`, { method: 'POST', headers, body: held.body, dispatcher: agent });
    open += 1;
    peakOpen = Math.max(peakOpen, open);
    let tail = '';
    try {
      for await (const part of response.body) tail = (tail + (part as Buffer).toString()).slice(-64);
    } finally {
      open -= 1;
    }
    return response.statusCode === 200 && tail.includes('[DONE]');
  };
  const outcomes = await Promise.allSettled(Array.from({ length: count }, one));
  const failures: Record<string, number> = {};
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled' && outcome.value) continue;
    const reason = outcome.status === 'rejected' ? String((outcome.reason as { code?: string }).code ?? (outcome.reason as Error).message) : 'incomplete';
    failures[reason] = (failures[reason] ?? 0) + 1;
  }
  clearInterval(sampler);
  peakRssMb = Math.max(peakRssMb, await rssMb(pid));
  await agent.close();
  const completed = outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value).length;
  return { requested: count, completed, failed: count - completed, failures, peakRssMb, baselineRssMb, durationMs: Date.now() - started, peakOpen };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}
