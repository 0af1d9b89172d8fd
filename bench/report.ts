/** Benchmark results: the raw numbers, targets checked against them, and the Markdown table. */

export interface TargetCheck {
  name: string;
  value: number | null;
  target: number;
  /** `min`: value must be at least target; `max`: at most. */
  direction: 'min' | 'max';
  unit: string;
  met: boolean;
  note?: string;
}

export interface SystemNumbers {
  /** req/s of each one-second warm-up slice at 50 connections, before the rounds. */
  warmUpRps?: number[];
  throughputRps: number[];
  throughputP99Ms: number[];
  /** CPU µs the system's process spent a request in each round (from /proc; empty where unknown). */
  cpuUsPerReq: number[];
  latencyP50Us?: number;
  latencyP99Us?: number;
  kneeRps?: number;
  kneeConnections?: number;
  ttftMedianUs?: number;
  gapP50Us?: number;
  gapP99Us?: number;
  errors: number;
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  durationS: number;
  mode: 'quick' | 'full';
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string; pinned: boolean };
  systems: Record<string, SystemNumbers>;
  streams: Record<
    string,
    { requested: number; completed: number; failed: number; failures: Record<string, number>; peakRssMb: number; baselineRssMb: number; durationMs: number; upstream: string; peakOpen?: number }
  >;
  micro: Record<string, { opsPerSecond: number; changePct: number | null }>;
  /** Concurrency-1 latency of a model whose primary's breaker is open, against the same model without one. */
  fallback?: { directP50Us: number; fallbackP50Us: number; fallbackP99Us: number };
  /** Concurrency-1 latency on a 4 KB prompt without and with guardrails (input and output guards on). */
  guards?: { plainP50Us: number; guardedP50Us: number; guardedP99Us: number };
  notMeasured: Record<string, string>;
  targets: TargetCheck[];
}

export function check(
  name: string,
  value: number | null | undefined,
  target: number,
  direction: 'min' | 'max',
  unit: string,
  note?: string,
): TargetCheck {
  const known = value !== null && value !== undefined && Number.isFinite(value);
  const met = known && (direction === 'min' ? (value as number) >= target : (value as number) <= target);
  // The note explains a miss; a met target needs none.
  return { name, value: known ? shownValue(value as number, target, direction, met) : null, target, direction, unit, met, ...(note && !met ? { note } : {}) };
}

/**
 * Two decimals, unless rounding would put the value on the other side of its goal (0.6986x shown as
 * 0.7x against a goal of 0.7x, not met): then four, so the table never contradicts itself.
 */
function shownValue(value: number, target: number, direction: 'min' | 'max', met: boolean): number {
  const short = round(value);
  const shortMeets = direction === 'min' ? short >= target : short <= target;
  return shortMeets === met ? short : round(value, 4);
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function medianOf(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

function cell(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

function ratio(value: number | undefined, reference: number | undefined): string {
  if (value === undefined || reference === undefined || !Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return 'n/a';
  return `${(value / reference).toFixed(2)}x`;
}

export function renderMarkdown(results: BenchResults): string {
  const systems = Object.keys(results.systems);
  const rps = (name: string) => medianOf(results.systems[name]?.throughputRps ?? []);
  const lines: string[] = [];
  const m = results.machine;
  lines.push(`# Benchmark results (${results.mode})`, '');
  lines.push(`${results.startedAt}, ${results.durationS.toFixed(0)} s. ${m.cpus} x ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, CPU pinning ${m.pinned ? 'on' : 'off'}.`, '');
  lines.push('## Non-streaming', '');
  lines.push('| system | req/s @50 conn (median) | p99 ms @50 | CPU µs/req @50 (median) | vs direct | vs baseline | vs Portkey | added p50 µs @1 | added p99 µs @1 | best req/s with p99 < 20 ms |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  const direct = results.systems.direct;
  for (const name of systems) {
    const s = results.systems[name] as SystemNumbers;
    const addedP50 = name === 'direct' || s.latencyP50Us === undefined || direct?.latencyP50Us === undefined ? undefined : s.latencyP50Us - direct.latencyP50Us;
    const addedP99 = name === 'direct' || s.latencyP99Us === undefined || direct?.latencyP99Us === undefined ? undefined : s.latencyP99Us - direct.latencyP99Us;
    lines.push(
      `| ${name} | ${cell(rps(name))} | ${cell(medianOf(s.throughputP99Ms), 1)} | ${cell(medianOf(s.cpuUsPerReq ?? []))} | ${ratio(rps(name), rps('direct'))} | ${ratio(rps(name), rps('baseline'))} | ${ratio(rps(name), rps('portkey'))} | ${cell(addedP50)} | ${cell(addedP99)} | ${s.kneeRps === undefined ? 'n/a' : `${cell(s.kneeRps)} (${s.kneeConnections} conn)`} |`,
    );
  }
  const warmUps = systems.filter((name) => (results.systems[name]?.warmUpRps?.length ?? 0) > 0);
  if (warmUps.length > 0) {
    lines.push('', 'Warm-up before the rounds, req/s of each one-second slice at 50 connections (until three in a row agree within 10%, at most ten; --quick: two in a row, at most four, and the last is its number):', '');
    for (const name of warmUps) lines.push(`- ${name}: ${(results.systems[name]?.warmUpRps ?? []).join(', ')}`);
  }
  lines.push('', '## Streaming', '');
  lines.push('| system | TTFT median µs | added TTFT µs | gap p50 µs | gap p99 µs |', '|---|---|---|---|---|');
  for (const name of systems) {
    const s = results.systems[name] as SystemNumbers;
    if (s.ttftMedianUs === undefined) continue;
    const added = name === 'direct' || direct?.ttftMedianUs === undefined ? undefined : s.ttftMedianUs - direct.ttftMedianUs;
    lines.push(`| ${name} | ${cell(s.ttftMedianUs)} | ${cell(added)} | ${cell(s.gapP50Us)} | ${cell(s.gapP99Us)} |`);
  }
  lines.push('', '## Concurrent open streams (Breakerbox)', '', '| streams | upstream | open at once | completed | failed | peak RSS MB | idle RSS MB | duration ms |', '|---|---|---|---|---|---|---|---|');
  for (const [name, s] of Object.entries(results.streams)) {
    const why = Object.entries(s.failures ?? {}).map(([reason, count]) => `${reason}: ${count}`).join(', ');
    lines.push(`| ${name} | ${s.upstream} | ${s.peakOpen ?? 'n/a'} | ${s.completed} | ${s.failed}${why ? ` (${why})` : ''} | ${cell(s.peakRssMb)} | ${cell(s.baselineRssMb)} | ${s.durationMs} |`);
  }
  lines.push('', '## Micro-benchmarks (ops/s, change vs previous results file)', '', '| function | ops/s | change |', '|---|---|---|');
  for (const [name, micro] of Object.entries(results.micro)) {
    lines.push(`| ${name} | ${cell(micro.opsPerSecond)} | ${micro.changePct === null ? 'n/a' : `${micro.changePct > 0 ? '+' : ''}${micro.changePct.toFixed(1)}%`} |`);
  }
  lines.push('', '## Targets', '', '| target | value | goal | met |', '|---|---|---|---|');
  for (const target of results.targets) {
    const goal = `${target.direction === 'min' ? '>=' : '<='} ${target.target} ${target.unit}`;
    const value = target.value === null ? 'not measured' : `${target.value} ${target.unit}`;
    lines.push(`| ${target.name} | ${value} | ${goal} | ${target.met ? 'yes' : `no${target.note ? ` (${target.note})` : ''}`} |`);
  }
  if (Object.keys(results.notMeasured).length > 0) {
    lines.push('', '## Not measured', '');
    for (const [what, why] of Object.entries(results.notMeasured)) lines.push(`- ${what}: ${why}`);
  }
  return `${lines.join('\n')}\n`;
}
