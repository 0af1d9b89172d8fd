/**
 * `npm run bench:profile [-- --seconds 8] [-- --connections 50] [-- --redis] [-- --cpu-prof] [-- --extra-yaml 'ledger: { enabled: false }']`:
 * CPU microseconds per request (from /proc, the system pinned to CPU 0, the upstream on CPU 1)
 * for the baseline proxy and Breakerbox under the same fixed autocannon load. CPU time per request
 * is steadier than req/s on a noisy 2-core machine, so this is the number to compare before and
 * after a hot-path change. With --cpu-prof, Breakerbox writes a V8 CPU profile and the top
 * self-time functions are printed.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildUnlessFresh } from './build.js';
import { throughput, type Target } from './load.js';
import type { Service } from './processes.js';
import { chatBody, GATEWAY_KEY, startBaseline, startBreakerbox, startUpstream, UPSTREAM_KEY } from './systems.js';

const ROOT = new URL('..', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    /** Load connections; 1 shows what a lone request costs, with nothing shared between requests. */
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    'cpu-prof': { type: 'boolean', default: false },
    'extra-yaml': { type: 'string', default: '' },
    /** Extra flags for Breakerbox's node (repeatable), e.g. --node-arg=--max-semi-space-size=32. */
    'node-arg': { type: 'string', multiple: true, default: [] },
    'no-baseline': { type: 'boolean', default: false },
    /** Also measure Breakerbox with its limits in Redis (REDIS_URL, else the local default). */
    redis: { type: 'boolean', default: false },
    /** Another checkout (built, e.g. a git worktree of main) to measure interleaved with this one. */
    compare: { type: 'string' },
  },
});
const CLOCK_TICKS = 100;

interface Measured {
  rps: number;
  cpuUsPerReq: number;
}

/** CPU microseconds per thread name (main thread, libuv workers, V8 helpers) of a process. */
async function threadMicros(pid: number): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const stat = await readFile(`/proc/${pid}/task/${task}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const name = task === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    byName.set(name, (byName.get(name) ?? 0) + ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6);
  }
  return byName;
}

async function measure(target: Target, pid: number, seconds: number): Promise<Measured> {
  const threadsBefore = await threadMicros(pid);
  const result = await throughput(target, Number(args.connections), seconds, pid);
  const threadsAfter = await threadMicros(pid);
  const requests = result.rps * seconds;
  const perThread = [...threadsAfter].map(([name, micros]) => `${name} ${((micros - (threadsBefore.get(name) ?? 0)) / requests).toFixed(1)}`).filter((line) => !line.endsWith(' 0.0'));
  process.stdout.write(`  threads (µs/req): ${perThread.join(', ')}\n`);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  // /proc is required here (Linux); without it the CPU reads as not a number.
  return { rps: result.rps, cpuUsPerReq: result.cpuUsPerReq ?? Number.NaN };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

async function printProfile(dir: string): Promise<void> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'));
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
    // Shares of busy time: the idle samples (waiting for load, or between requests at low concurrency) are left out.
    const total = profile.nodes.reduce((sum, node) => sum + (node.callFrame.functionName === '(idle)' ? 0 : (node.hitCount ?? 0)), 0);
    const byFunction = new Map<string, number>();
    const byFile = new Map<string, number>();
    for (const node of profile.nodes) {
      if (node.callFrame.functionName === '(idle)') continue;
      const hits = node.hitCount ?? 0;
      const where = node.callFrame.url.replace(/^file:\/\//, '').replace(ROOT, '');
      const name = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
      const fileKey = where.replace(/node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*/, 'node_modules/$1') || node.callFrame.functionName;
      byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + hits);
    }
    const top = (map: Map<string, number>, count: number) =>
      [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
    process.stdout.write(`\nprofile ${file}: ${total} busy samples (shares of busy time)\n-- by file --\n${top(byFile, 40).join('\n')}\n-- by function --\n${top(byFunction, 50).join('\n')}\n`);
  }
}

async function main(): Promise<void> {
  buildUnlessFresh(ROOT, (message) => process.stdout.write(`${message}\n`));
  const workDir = await mkdtemp(join(tmpdir(), 'breakerbox-profile-'));
  const profileDir = join(workDir, 'profiles');
  const services: Service[] = [];
  const seconds = Number(args.seconds);
  try {
    const upstream = await startUpstream(1);
    services.push(upstream);
    const auth = { authorization: `Bearer ${UPSTREAM_KEY}` };
    const baseline = args['no-baseline'] ? undefined : await startBaseline(upstream.url, 0);
    if (baseline) services.push(baseline);
    const gateway = await startBreakerbox(upstream.url, 0, workDir, undefined, {
      extraYaml: args['extra-yaml'] ? `${args['extra-yaml']}\n` : '',
      nodeArgs: [...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(args['node-arg'] ?? [])],
    });
    services.push(gateway);
    const systems: Array<[Target, number]> = [];
    if (baseline) systems.push([{ name: 'baseline', url: baseline.url, headers: auth, body: chatBody('gpt-4o-mini') }, baseline.pid]);
    if (args.compare) {
      const other = await startBreakerbox(upstream.url, 0, workDir, undefined, { name: 'compare', root: args.compare, extraYaml: args['extra-yaml'] ? `${args['extra-yaml']}\n` : '' });
      services.push(other);
      systems.push([{ name: 'compare', url: other.url, headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: chatBody('bench') }, other.pid]);
    }
    systems.push([{ name: 'breakerbox', url: gateway.url, headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: chatBody('bench') }, gateway.pid]);
    if (args.redis) {
      const redisGateway = await startBreakerbox(upstream.url, 0, workDir, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
        extraYaml: args['extra-yaml'] ? `${args['extra-yaml']}\n` : '',
        nodeArgs: args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, 'redis')}`] : [],
      });
      services.push(redisGateway);
      systems.push([{ name: 'redis', url: redisGateway.url, headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: chatBody('bench') }, redisGateway.pid]);
      if (args.compare) {
        const otherRedis = await startBreakerbox(upstream.url, 0, workDir, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
          name: 'compare-redis',
          root: args.compare,
          extraYaml: args['extra-yaml'] ? `${args['extra-yaml']}\n` : '',
        });
        services.push(otherRedis);
        systems.push([{ name: 'compare-redis', url: otherRedis.url, headers: { authorization: `Bearer ${GATEWAY_KEY}` }, body: chatBody('bench') }, otherRedis.pid]);
      }
    }
    for (const [target] of systems) await throughput(target, 50, 1);
    for (let round = 0; round < Number(args.rounds); round += 1) {
      for (const [target, pid] of systems) {
        const result = await measure(target, pid, seconds);
        process.stdout.write(`${target.name.padEnd(12)} ${Math.round(result.rps).toString().padStart(6)} req/s  ${result.cpuUsPerReq.toFixed(1).padStart(6)} µs CPU/req\n`);
      }
    }
  } finally {
    for (const service of services.reverse()) await service.stop();
  }
  if (args['cpu-prof']) {
    await printProfile(profileDir);
    if (args.redis) await printProfile(join(profileDir, 'redis'));
  }
}

await main();
