/**
 * `npm run bench [-- --quick] [-- --pin] [-- --no-portkey]`: Breakerbox against a direct call, a
 * forward-only Node proxy and Portkey's gateway, interleaved (A B A B ...) so machine drift
 * cancels. Writes bench/results/latest.json and latest.md. See docs/benchmarks.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { concurrentStreams, median, percentile, sequentialLatency, streamTiming, throughput, warmUp, type StreamTiming, type Target } from './load.js';
import { buildUnlessFresh } from './build.js';
import { runMicroBenchmarks } from './micro.js';
import { findNginx, startNginx } from './peers/nginx.js';
import { startPortkey } from './peers/portkey.js';
import type { Service } from './processes.js';
import { check, medianOf, renderMarkdown, round, type BenchResults, type SystemNumbers } from './report.js';
import { chatBody, GATEWAY_KEY, startBaseline, startBreakerbox, startUpstream, UPSTREAM_KEY } from './systems.js';

const ROOT = new URL('..', import.meta.url).pathname;
const RESULTS_DIR = join(ROOT, 'bench/results');

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, pin: { type: 'boolean', default: false }, 'no-portkey': { type: 'boolean', default: false } },
});
const quick = args.quick === true;
/** Run lengths: the full run stays under 5 minutes, --quick under 1 minute. */
const PLAN = quick
  ? { rounds: 0, durationS: 1, warmUpSlices: 4, warmUpInARow: 2, latencyCount: 200, kneeSteps: [16], kneeDurationS: 1, streams: 10, streamChunks: 5, bigStreams: 1_000, hugeStreams: 0, microMs: 100 }
  : { rounds: 3, durationS: 5, warmUpSlices: 10, warmUpInARow: 3, latencyCount: 1_500, kneeSteps: [1, 4, 16, 32, 64, 128], kneeDurationS: 2, streams: 60, streamChunks: 5, bigStreams: 1_000, hugeStreams: 10_000, microMs: 400 };
/**
 * How long the concurrent-stream runs hold every first token, so all streams are admitted before
 * any ends (a gateway pinned to one slow core took about 6 s to admit 10,000; with 1 s for 1,000,
 * only 903 were open at once in one run).
 */
const STREAMS_HOLD_MS = { big: 2_000, huge: 10_000 };
// With --pin the systems under test share CPU 0 and the upstream takes CPU 1. The load generator
// (this process) is left to the scheduler: pinned to CPU 1 with the upstream it becomes the
// bottleneck itself (direct fell from about 68,000 to 40,000 req/s), which would flatter any
// proxy measured against it.
const PROXY_CPU = args.pin ? 0 : undefined;
const UPSTREAM_CPU = args.pin ? 1 : undefined;

const RUN_STARTED = Date.now();

/** Progress on stderr, with the seconds since the start so a slow phase shows. */
function log(message: string): void {
  process.stderr.write(`[bench +${((Date.now() - RUN_STARTED) / 1000).toFixed(1)}s] ${message}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const previous = await readFile(join(RESULTS_DIR, 'latest.json'), 'utf8').then((text) => JSON.parse(text) as BenchResults).catch(() => undefined);
  buildUnlessFresh(ROOT, log);
  const workDir = await mkdtemp(join(tmpdir(), 'breakerbox-bench-'));
  const services: Service[] = [];
  const notMeasured: Record<string, string> = {};
  try {
    const upstream = await startUpstream(UPSTREAM_CPU);
    services.push(upstream);
    const baseline = await startBaseline(upstream.url, PROXY_CPU);
    services.push(baseline);
    const gateway = await startBreakerbox(upstream.url, PROXY_CPU, workDir);
    services.push(gateway);
    const auth = { authorization: `Bearer ${UPSTREAM_KEY}` };
    const targets: Target[] = [
      { name: 'direct', url: upstream.url, headers: auth, body: chatBody('gpt-4o-mini') },
      { name: 'baseline', url: baseline.url, headers: auth, body: chatBody('gpt-4o-mini') },
    ];
    const nginxBinary = findNginx();
    if (nginxBinary) {
      const nginx = await startNginx(nginxBinary, upstream.url, workDir, PROXY_CPU);
      services.push(nginx);
      targets.push({ name: 'nginx', url: nginx.url, headers: auth, body: chatBody('gpt-4o-mini') });
    } else notMeasured.nginx = 'nginx is not installed (apt-get install nginx adds it to the run)';
    targets.push({ name: 'breakerbox', url: gateway.url, headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: chatBody('bench') });
    const redisUrl = process.env.REDIS_URL;
    if (redisUrl) {
      const redisGateway = await startBreakerbox(upstream.url, PROXY_CPU, workDir, redisUrl);
      services.push(redisGateway);
      targets.push({ name: 'breakerbox-redis', url: redisGateway.url, headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: chatBody('bench') });
    } else notMeasured['Redis mode'] = 'REDIS_URL is not set';
    if (args['no-portkey']) notMeasured.portkey = 'skipped with --no-portkey';
    else {
      try {
        log('starting Portkey (installs on first use)');
        const portkey = await startPortkey({ upstreamBaseUrl: `${upstream.url}/v1`, upstreamApiKey: UPSTREAM_KEY, cpu: PROXY_CPU, log: (line) => log(`portkey: ${line}`) });
        services.push({ name: portkey.name, url: portkey.url, pid: portkey.pid, stop: portkey.stop });
        targets.push({ name: 'portkey', url: portkey.url, headers: portkey.headers, body: chatBody('gpt-4o-mini') });
      } catch (error) {
        notMeasured.portkey = `could not start: ${(error as Error).message.split('\n')[0]}`;
      }
    }
    const systems: Record<string, SystemNumbers> = Object.fromEntries(targets.map((target) => [target.name, { throughputRps: [], throughputP99Ms: [], cpuUsPerReq: [], errors: 0 }]));
    const numbers = (name: string) => systems[name] as SystemNumbers;

    // The process whose CPU a target's requests cost (direct: the upstream).
    const pidOf = new Map<string, number>(services.map((service) => [service.name === 'upstream' ? 'direct' : service.name, service.pid]));
    for (const target of targets) {
      log(`warm-up: ${target.name}`);
      const slices = await warmUp(target, 50, PLAN.warmUpSlices, PLAN.warmUpInARow, pidOf.get(target.name));
      const system = numbers(target.name);
      system.warmUpRps = slices.map((slice) => Math.round(slice.rps));
      for (const slice of slices) system.errors += slice.errors + slice.non2xx;
      // --quick has no rounds of its own: its number is the warm-up's last slice, settled or not.
      const last = slices[slices.length - 1];
      if (PLAN.rounds === 0 && last) {
        system.throughputRps.push(round2(last.rps));
        system.throughputP99Ms.push(last.p99Ms);
        if (last.cpuUsPerReq !== undefined) system.cpuUsPerReq.push(round2(last.cpuUsPerReq));
      }
    }

    for (let round = 0; round < PLAN.rounds; round += 1) {
      for (const target of targets) {
        log(`throughput round ${round + 1}/${PLAN.rounds}: ${target.name}`);
        const result = await throughput(target, 50, PLAN.durationS, pidOf.get(target.name));
        numbers(target.name).throughputRps.push(round2(result.rps));
        if (result.cpuUsPerReq !== undefined) numbers(target.name).cpuUsPerReq.push(round2(result.cpuUsPerReq));
        numbers(target.name).throughputP99Ms.push(result.p99Ms);
        numbers(target.name).errors += result.errors + result.non2xx;
      }
    }

    log('latency at concurrency 1 (interleaved blocks)');
    const latency: Record<string, number[]> = Object.fromEntries(targets.map((target) => [target.name, []]));
    const blocks = 5;
    for (let block = 0; block < blocks; block += 1) {
      for (const target of targets) latency[target.name]?.push(...(await sequentialLatency(target, Math.ceil(PLAN.latencyCount / blocks))));
    }
    for (const target of targets) {
      const samples = latency[target.name] ?? [];
      numbers(target.name).latencyP50Us = round2(percentile(samples, 50));
      numbers(target.name).latencyP99Us = round2(percentile(samples, 99));
    }

    const breakerbox = targets.find((target) => target.name === 'breakerbox') as Target;
    const fallback = await fallbackLatency(breakerbox, PLAN.latencyCount);
    // The guards' cost against a gateway of the same age and history, not against the one warmed
    // by the whole run (a process that has served much more runs the same request faster).
    // Started together (each takes seconds on a slow host); whichever came up is stopped at the end even if the other failed.
    const guardGateways = await Promise.allSettled([
      startBreakerbox(upstream.url, PROXY_CPU, workDir, undefined, { guards: true }),
      startBreakerbox(upstream.url, PROXY_CPU, workDir, undefined, { name: 'breakerbox-unguarded' }),
    ]);
    for (const outcome of guardGateways) if (outcome.status === 'fulfilled') services.push(outcome.value);
    const [guarded, unguarded] = guardGateways.map((outcome) => {
      if (outcome.status === 'rejected') throw outcome.reason;
      return outcome.value;
    }) as [Service, Service];
    const guards = await guardLatency({ ...breakerbox, name: 'breakerbox-unguarded', url: unguarded.url }, { ...breakerbox, name: 'breakerbox-guards', url: guarded.url }, PLAN.latencyCount, PLAN.kneeDurationS);
    // Stopped at once: the memory runs below should not share the CPU with them.
    await Promise.all([guarded.stop(), unguarded.stop()]);

    for (const target of targets.filter((entry) => entry.name === 'breakerbox' || entry.name === 'baseline')) {
      log(`highest throughput with p99 < 20 ms: ${target.name}`);
      for (const connections of PLAN.kneeSteps) {
        const result = await throughput(target, connections, PLAN.kneeDurationS);
        if (result.p99Ms < 20 && result.rps > (numbers(target.name).kneeRps ?? 0)) {
          numbers(target.name).kneeRps = round2(result.rps);
          numbers(target.name).kneeConnections = connections;
        }
      }
    }

    log('streaming: time to first token and gaps');
    // 5 chunks 10 ms apart is also the upstream's default: Portkey drops the `bench` field.
    const timings = await streamTiming(targets, PLAN.streams, PLAN.streamChunks, 10);
    for (const target of targets) {
      const timing = timings.get(target.name) as StreamTiming;
      numbers(target.name).ttftMedianUs = round2(median(timing.ttftUs));
      numbers(target.name).gapP50Us = round2(percentile(timing.gapUs, 50));
      numbers(target.name).gapP99Us = round2(percentile(timing.gapUs, 99));
      if (timing.complete !== PLAN.streams) numbers(target.name).errors += PLAN.streams - timing.complete;
    }

    const streams: BenchResults['streams'] = {};
    const gatewayTarget = targets.find((target) => target.name === 'breakerbox') as Target;
    log(`${PLAN.bigStreams} concurrent streams through the HTTP upstream`);
    const viaUpstream = (holdMs: number) => ({ body: gatewayTarget.body({ stream: true, bench: { chunks: 20, interval_ms: 100, hold_ms: holdMs } }) });
    streams[String(PLAN.bigStreams)] = {
      ...(await concurrentStreams(gatewayTarget, PLAN.bigStreams, gateway.pid, viaUpstream, STREAMS_HOLD_MS.big)),
      upstream: 'HTTP (OpenAI provider)',
    };
    if (PLAN.hugeStreams > 0) {
      log(`${PLAN.hugeStreams} concurrent streams through the in-process mock`);
      const mockBody = JSON.stringify({ model: 'bench-mock', stream: true, messages: [{ role: 'user', content: 'stream please' }] });
      // 60 tokens at the mock's 4 a second: 15 s from the first token, longer than sending the first
      // token to all 10,000 takes (about 8 s on a slow host), so all are streaming at once.
      const viaMock = (holdMs: number) => ({ body: mockBody, headers: { 'x-mock-behavior': `ttft_ms=${holdMs}; tokens=60` } });
      streams[String(PLAN.hugeStreams)] = { ...(await concurrentStreams(gatewayTarget, PLAN.hugeStreams, gateway.pid, viaMock, STREAMS_HOLD_MS.huge)), upstream: 'in-process mock provider' };
    } else notMeasured['10,000 streams'] = 'skipped in --quick mode';

    log('micro-benchmarks');
    const micro: BenchResults['micro'] = {};
    for (const [name, opsPerSecond] of Object.entries(await runMicroBenchmarks(PLAN.microMs))) {
      const before = previous?.micro?.[name]?.opsPerSecond;
      micro[name] = { opsPerSecond: round2(opsPerSecond), changePct: before ? round2(((opsPerSecond - before) / before) * 100) : null };
    }

    const results: BenchResults = {
      version: 1,
      startedAt: new Date(started).toISOString(),
      durationS: (Date.now() - started) / 1000,
      mode: quick ? 'quick' : 'full',
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(totalmem() / 1024 ** 3),
        node: process.version,
        platform: process.platform,
        pinned: args.pin === true,
      },
      systems,
      streams,
      micro,
      fallback,
      guards,
      notMeasured,
      targets: [],
    };
    results.targets = checkTargets(results);
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    const markdown = renderMarkdown(results);
    await writeFile(join(RESULTS_DIR, 'latest.md'), markdown);
    process.stdout.write(markdown);
  } finally {
    for (const service of services.reverse()) await service.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * A model whose only target always fails (its breaker opens after 5 failures) with a fallback to
 * `bench`, against `bench` itself, in interleaved blocks: what serving from a fallback adds.
 */
async function fallbackLatency(breakerbox: Target, count: number): Promise<BenchResults['fallback']> {
  log('latency through a fallback past an open breaker');
  const viaFallback: Target = { ...breakerbox, name: 'breakerbox-fallback', body: chatBody('bench-fallback') };
  // Opens the breaker: 20 failing requests, four at a time (each retries with backoff first, so
  // one at a time this took seconds).
  await Promise.all(Array.from({ length: 4 }, () => sequentialLatency(viaFallback, 5)));
  const direct: number[] = [];
  const fallback: number[] = [];
  for (let block = 0; block < 5; block += 1) {
    direct.push(...(await sequentialLatency(breakerbox, Math.ceil(count / 5))));
    fallback.push(...(await sequentialLatency(viaFallback, Math.ceil(count / 5))));
  }
  return { directP50Us: round2(percentile(direct, 50)), fallbackP50Us: round2(percentile(fallback, 50)), fallbackP99Us: round2(percentile(fallback, 99)) };
}

/** A 4 KB prompt (prose, no personal data) through Breakerbox without and with guardrails, interleaved. */
async function guardLatency(plain: Target, guarded: Target, count: number, warmS: number): Promise<BenchResults['guards']> {
  log('latency with guardrails on a 4 KB prompt');
  const prose = 'The shipment left the warehouse on Monday and should reach the depot by Thursday, weather permitting. ';
  const prompt = prose.repeat(Math.ceil(4096 / prose.length)).slice(0, 4096);
  const body = () => JSON.stringify({ model: 'bench', max_tokens: 256, messages: [{ role: 'user', content: prompt }] });
  const withoutGuards: Target = { ...plain, body };
  const withGuards: Target = { ...guarded, body };
  // Both fresh and warmed alike: measured after 20 requests against the gateway warmed by the
  // whole run, the guards' added p50 came out at 280-580 µs; two fresh gateways warmed the same
  // way put it at 13-130 µs (29 November).
  await throughput(withoutGuards, 16, warmS);
  await throughput(withGuards, 16, warmS);
  const off: number[] = [];
  const on: number[] = [];
  for (let block = 0; block < 5; block += 1) {
    off.push(...(await sequentialLatency(withoutGuards, Math.ceil(count / 5))));
    on.push(...(await sequentialLatency(withGuards, Math.ceil(count / 5))));
  }
  return { plainP50Us: round2(percentile(off, 50)), guardedP50Us: round2(percentile(on, 50)), guardedP99Us: round2(percentile(on, 99)) };
}

function round2(value: number): number {
  return round(value, 2);
}

function checkTargets(results: BenchResults) {
  const rps = (name: string) => medianOf(results.systems[name]?.throughputRps ?? []);
  const gw = results.systems.breakerbox;
  const direct = results.systems.direct;
  const added = (value: number | undefined, reference: number | undefined) => (value === undefined || reference === undefined ? null : value - reference);
  const huge = results.streams['10000'];
  // What holds each target back when it is missed (docs/benchmarks.md, "What holds the targets back").
  const cpu = 'per-request CPU, see docs/benchmarks.md';
  return [
    check('throughput vs Portkey', results.systems.portkey ? rps('breakerbox') / rps('portkey') : null, 10, 'min', 'x', cpu),
    check('throughput vs baseline Node proxy', rps('breakerbox') / rps('baseline'), 0.6, 'min', 'x', cpu),
    check('added latency p50 at concurrency 1', added(gw?.latencyP50Us, direct?.latencyP50Us), 300, 'max', 'µs', `the hop (the baseline adds ${round2(added(results.systems.baseline?.latencyP50Us, direct?.latencyP50Us) ?? NaN)} µs), then the work before the upstream call and the ledger's commit before the last byte, see docs/benchmarks.md`),
    check('added latency p99 at concurrency 1', added(gw?.latencyP99Us, direct?.latencyP99Us), 1000, 'max', 'µs', cpu),
    check('added time to first token', added(gw?.ttftMedianUs, direct?.ttftMedianUs), 1000, 'max', 'µs', `the hops (the baseline adds ${round2(added(results.systems.baseline?.ttftMedianUs, direct?.ttftMedianUs) ?? NaN)} µs), then per-request code run cold after an idle moment, see docs/benchmarks.md`),
    // Counted only as far as they were open together: streams that complete one after another are not concurrent.
    check('10,000 concurrent streams all complete', huge ? Math.min(huge.completed, huge.peakOpen ?? 0) : null, 10_000, 'min', 'streams', huge ? (huge.completed < 10_000 ? 'see the failure reasons above' : `only ${huge.peakOpen} were open at one moment`) : 'not run'),
    check('RSS with 10,000 concurrent streams', huge ? huge.peakRssMb : null, 300, 'max', 'MB', 'Node\'s per-socket memory and the per-stream heap, see docs/benchmarks.md'),
    check('fallback past an open breaker, added p50', results.fallback ? results.fallback.fallbackP50Us - results.fallback.directP50Us : null, 5000, 'max', 'µs', 'the routing loop, see docs/benchmarks.md'),
    check('guardrails on a 4 KB prompt, added p50', results.guards ? results.guards.guardedP50Us - results.guards.plainP50Us : null, 500, 'max', 'µs', 'detection on request and answer, see docs/guardrails-detection.md'),
    check('Redis mode throughput vs embedded', results.systems['breakerbox-redis'] ? rps('breakerbox-redis') / rps('breakerbox') : null, 0.7, 'min', 'x', results.systems['breakerbox-redis'] ? 'one Redis round trip per admission and one per settle, see docs/benchmarks.md' : 'REDIS_URL not set'),
  ];
}

if (!existsSync(join(ROOT, 'node_modules'))) throw new Error('run npm ci first');
main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
