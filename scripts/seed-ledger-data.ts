/**
 * Made-up but plausible ledger traffic (scripts/seed-ledger.ts): a diurnal and weekly rhythm,
 * teams, users and their keys, end customers with a long tail (Zipf), models on several
 * providers with real-looking prices and speeds, prompt templates with versions, conversations,
 * errors, streams, and a few rows replayed late from an outbox. Deterministic for a given seed.
 *
 * One story is planted for the benchmark's comparison: template `tpl-summarize` moves to version
 * 3 for the last 7 days, which answers with twice the output tokens.
 */
import type { LedgerRow } from '../src/store/ledger-records.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** mulberry32: small, fast, good enough for test data. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelSpec {
  name: string;
  endpoint: 'chat' | 'embeddings';
  targets: Array<{ provider: string; model: string; share: number }>;
  /** USD per million input / output tokens. */
  price: [number, number];
  tokensPerSecond: number;
  ttftMs: number;
  weight: number;
  reasoning?: boolean;
}

const MODELS: ModelSpec[] = [
  { name: 'gpt-4o', endpoint: 'chat', targets: [{ provider: 'openai', model: 'gpt-4o-2024-08-06', share: 0.85 }, { provider: 'azure-openai', model: 'gpt-4o', share: 0.15 }], price: [2.5, 10], tokensPerSecond: 90, ttftMs: 450, weight: 18 },
  { name: 'gpt-4o-mini', endpoint: 'chat', targets: [{ provider: 'openai', model: 'gpt-4o-mini-2024-07-18', share: 1 }], price: [0.15, 0.6], tokensPerSecond: 140, ttftMs: 300, weight: 26 },
  { name: 'claude-sonnet', endpoint: 'chat', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5', share: 0.9 }, { provider: 'bedrock', model: 'anthropic.claude-sonnet-4-5', share: 0.1 }], price: [3, 15], tokensPerSecond: 75, ttftMs: 650, weight: 14 },
  { name: 'claude-haiku', endpoint: 'chat', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5', share: 1 }], price: [1, 5], tokensPerSecond: 150, ttftMs: 350, weight: 10 },
  { name: 'gemini-flash', endpoint: 'chat', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash', share: 1 }], price: [0.3, 2.5], tokensPerSecond: 180, ttftMs: 400, weight: 9 },
  { name: 'o4-mini', endpoint: 'chat', targets: [{ provider: 'openai', model: 'o4-mini', share: 1 }], price: [1.1, 4.4], tokensPerSecond: 110, ttftMs: 1800, weight: 5, reasoning: true },
  { name: 'llama-70b', endpoint: 'chat', targets: [{ provider: 'vllm', model: 'meta-llama/Llama-3.3-70B-Instruct', share: 1 }], price: [0.6, 0.6], tokensPerSecond: 45, ttftMs: 250, weight: 6 },
  { name: 'embed-small', endpoint: 'embeddings', targets: [{ provider: 'openai', model: 'text-embedding-3-small', share: 1 }], price: [0.02, 0], tokensPerSecond: 0, ttftMs: 0, weight: 12 },
];

const TEAMS = ['search', 'support', 'growth', 'finance', 'legal', 'platform', 'mobile', 'research', 'sales', 'ops', 'data', 'security'];
const TEMPLATE_NAMES = [
  'summarize', 'classify-ticket', 'draft-reply', 'extract-entities', 'translate', 'rewrite-tone', 'qa-docs', 'sql-helper', 'code-review', 'meeting-notes',
  'product-copy', 'sentiment', 'contract-check', 'invoice-parse', 'search-rerank', 'chat-assistant', 'onboarding', 'faq-bot', 'email-triage', 'report-writer',
];

interface Template {
  id: string;
  versions: string[];
  inputMedian: number;
  outputMedian: number;
  model: number;
  team: number;
}

export interface GeneratorOptions {
  rows: number;
  days: number;
  endMs: number;
  seed: number;
  runId: string;
}

/** Yields rows in ingestion order (time order, with late replays), batch by batch. */
export class LedgerGenerator {
  private readonly random: () => number;
  private readonly hours: number[];
  private readonly startMs: number;
  private hourIndex = 0;
  private leftInHour = 0;
  private produced = 0;
  /** Per team: its customers (indexes) and their cumulative Zipf weights. */
  private readonly teamCustomers: Array<{ ids: number[]; cdf: number[] }>;
  /** Per team: the templates its apps use. */
  private readonly teamTemplates: Template[][];
  private readonly keys: Array<{ id: string; prefix: string; name: string; user: string; team: number }>;
  private readonly templates: Template[];
  private readonly conversations: string[] = [];
  private conversationCount = 0;
  private readonly modelCdf: number[];

  constructor(private readonly options: GeneratorOptions) {
    this.random = rng(options.seed);
    this.startMs = options.endMs - options.days * DAY;
    this.hours = this.planHours();
    const r = this.random;
    const customerTeam = Array.from({ length: 1000 }, () => Math.floor(r() * TEAMS.length));
    this.teamCustomers = TEAMS.map((_, team) => {
      const ids = customerTeam.flatMap((owner, id) => (owner === team ? [id] : []));
      return { ids, cdf: cumulative(ids.map((id) => 1 / (id + 1) ** 1.05)) };
    });
    const users = Array.from({ length: 150 }, (_, i) => ({ name: `user-${String(i + 1).padStart(3, '0')}`, team: i % TEAMS.length }));
    this.keys = Array.from({ length: 300 }, (_, i) => {
      const user = users[i % users.length] as { name: string; team: number };
      const hex = Math.floor(r() * 0xffffff).toString(16).padStart(6, '0');
      return { id: `key_seed${String(i).padStart(4, '0')}`, prefix: `bb-${hex}…`, name: `${user.name}-${i < 150 ? 'app' : 'ci'}`, user: user.name, team: user.team };
    });
    this.modelCdf = cumulative(MODELS.map((model) => model.weight));
    this.templates = Array.from({ length: 60 }, (_, i) => {
      const base = TEMPLATE_NAMES[i % TEMPLATE_NAMES.length] as string;
      const id = i < TEMPLATE_NAMES.length ? `tpl-${base}` : `tpl-${base}-${Math.floor(i / TEMPLATE_NAMES.length) + 1}`;
      const chatModels = MODELS.map((model, index) => ({ model, index })).filter((entry) => entry.model.endpoint === 'chat');
      return {
        id,
        versions: Array.from({ length: 1 + Math.floor(r() * 3) }, (_, v) => String(v + 1)),
        inputMedian: Math.round(200 * Math.exp(r() * 3.7)),
        outputMedian: Math.round(60 * Math.exp(r() * 2.3)),
        model: (chatModels[Math.floor(r() * chatModels.length)] as { index: number }).index,
        team: Math.floor(r() * TEAMS.length),
      };
    });
    this.teamTemplates = TEAMS.map((_, team) => this.templates.filter((template) => template.team === team));
    const summarize = this.templates[0] as Template;
    summarize.versions = ['1', '2'];
    summarize.outputMedian = 250;
  }

  /** Rows per hour: a day curve (busy 9-18 UTC), quieter weekends, shares summing to `rows`. */
  private planHours(): number[] {
    const count = this.options.days * 24;
    const weights = Array.from({ length: count }, (_, i) => {
      const at = new Date(this.startMs + i * HOUR);
      const hour = at.getUTCHours();
      const weekend = at.getUTCDay() === 0 || at.getUTCDay() === 6;
      return (0.35 + Math.max(0, Math.sin(((hour - 6) / 14) * Math.PI))) * (weekend ? 0.45 : 1);
    });
    const total = weights.reduce((a, b) => a + b, 0);
    const hours = weights.map((weight) => Math.floor((weight / total) * this.options.rows));
    let missing = this.options.rows - hours.reduce((a, b) => a + b, 0);
    for (let i = hours.length - 1; missing > 0; i = (i - 1 + hours.length) % hours.length, missing -= 1) hours[i] = (hours[i] as number) + 1;
    return hours;
  }

  next(limit: number): LedgerRow[] {
    const out: LedgerRow[] = [];
    while (out.length < limit && this.produced < this.options.rows) {
      while (this.leftInHour === 0) this.leftInHour = this.hours[this.hourIndex++] ?? 0;
      const hourStart = this.startMs + (this.hourIndex - 1) * HOUR;
      // Within the hour, times rise with ingestion; 0.5% are replays of requests 1-3 hours old.
      const done = 1 - this.leftInHour / (this.hours[this.hourIndex - 1] as number);
      let started = hourStart + Math.floor(done * HOUR + this.random() * 1000);
      if (this.random() < 0.005) started -= HOUR + Math.floor(this.random() * 2 * HOUR);
      out.push(this.row(Math.max(this.startMs, started)));
      this.leftInHour -= 1;
      this.produced += 1;
    }
    return out;
  }

  private pick(cdf: number[]): number {
    const x = this.random() * (cdf[cdf.length - 1] as number);
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x < (cdf[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Log-normal around a median. */
  private around(median: number, sigma: number): number {
    const u = Math.max(1e-12, this.random());
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
    return median * Math.exp(sigma * normal);
  }

  private conversation(): { id: string; turn: number } {
    if (this.conversations.length > 0 && this.random() < 0.65) {
      const index = Math.floor(this.random() * Math.min(this.conversations.length, 4000));
      const id = this.conversations[this.conversations.length - 1 - index] as string;
      return { id, turn: 1 + Math.floor(this.random() * 8) };
    }
    const id = `conv-${this.options.runId}-${(this.conversationCount++).toString(36)}`;
    this.conversations.push(id);
    if (this.conversations.length > 20_000) this.conversations.splice(0, 10_000);
    return { id, turn: 0 };
  }

  private row(startedAtMs: number): LedgerRow {
    const r = this.random;
    const key = this.keys[Math.floor(r() * this.keys.length)] as (typeof this.keys)[number];
    const team = key.team;
    const customers = this.teamCustomers[team] as { ids: number[]; cdf: number[] };
    const customerIndex = customers.ids.length > 0 && r() < 0.75 ? (customers.ids[this.pick(customers.cdf)] as number) : -1;
    let modelIndex = this.pick(this.modelCdf);
    let template: Template | undefined;
    let version: string | undefined;
    if ((MODELS[modelIndex] as ModelSpec).endpoint === 'chat' && r() < 0.7) {
      // Mostly the team's own templates; now and then a shared one.
      const own = this.teamTemplates[team] as Template[];
      const pool = own.length > 0 && r() < 0.9 ? own : this.templates;
      template = pool[Math.floor(r() ** 1.6 * pool.length)] as Template;
      modelIndex = r() < 0.8 ? template.model : modelIndex;
      version = template.versions[template.versions.length - 1 - Math.floor(r() ** 2 * template.versions.length)];
    }
    const model = MODELS[modelIndex] as ModelSpec;
    const chat = model.endpoint === 'chat';
    const summarizeV3 = template?.id === 'tpl-summarize' && startedAtMs >= this.options.endMs - 7 * DAY;
    if (summarizeV3) version = '3';
    const conversation = chat && r() < 0.6 ? this.conversation() : undefined;
    const target = r() < (model.targets[0] as { share: number }).share ? model.targets[0] : model.targets[1] ?? model.targets[0];
    const roll = r();
    const status = roll < 0.965 ? 200 : roll < 0.975 ? 429 : roll < 0.985 ? 502 : roll < 0.99 ? 400 : roll < 0.995 ? 504 : 499;
    const errorCode = { 200: null, 429: 'BB_RATE_LIMITED', 502: 'BB_UPSTREAM_ERROR', 400: 'BB_INVALID_REQUEST', 504: 'BB_UPSTREAM_TIMEOUT', 499: 'BB_CLIENT_CLOSED' }[status] ?? null;
    const served = status === 200 || status === 499;
    const growth = conversation ? 1 + conversation.turn * 0.35 : 1;
    const input = served || status === 504 ? Math.max(1, Math.round(this.around(template?.inputMedian ?? (chat ? 450 : 900), 0.55) * growth)) : 0;
    const fullOutput = chat ? Math.max(1, Math.round(this.around((template?.outputMedian ?? 180) * (summarizeV3 ? 2 : 1), 0.5))) : 0;
    const output = !served ? 0 : status === 499 ? Math.round(fullOutput * r()) : fullOutput;
    const reasoning = model.reasoning && output > 0 ? Math.round(output * (0.5 + r())) : 0;
    const cached = conversation && conversation.turn > 0 && r() < 0.5 ? Math.round(input * 0.6) : 0;
    const stream = chat && r() < 0.55;
    const ttft = chat && served ? this.around(model.ttftMs, 0.35) + input / 50 : 0;
    const total = !served && status !== 504 ? this.around(status === 429 ? 2 : 900, 0.6) : status === 504 ? 30_000 + r() * 5000 : chat ? ttft + ((output + reasoning) / model.tokensPerSecond) * 1000 : this.around(120, 0.4);
    const overhead = 0.3 + r() * 1.5;
    const cost = served ? Math.round(((input - cached) * model.price[0] + cached * model.price[0] * 0.25 + (output + reasoning) * model.price[1]) * 1e3) / 1e9 : null;
    return {
      request_id: `seed-${this.options.runId}-${this.produced.toString(36)}`,
      started_at_ms: startedAtMs,
      endpoint: model.endpoint,
      dialect: chat ? (model.targets[0]?.provider === 'anthropic' && r() < 0.5 ? 'anthropic-messages' : 'openai-chat') : 'openai-embeddings',
      method: 'POST',
      path: chat ? '/v1/chat/completions' : '/v1/embeddings',
      status,
      error_code: errorCode,
      key_source: 'virtual-key',
      key_id: key.id,
      key_prefix: key.prefix,
      key_name: key.name,
      user_name: key.user,
      team_name: TEAMS[team] as string,
      org_id: 'org_default',
      plan: team % 3 === 0 ? 'enterprise' : 'pro',
      customer: customerIndex >= 0 ? `cust-${String(customerIndex + 1).padStart(4, '0')}` : null,
      requested_model: model.name,
      provider: status === 429 || status === 400 ? null : (target?.provider ?? null),
      served_model: status === 429 || status === 400 ? null : (target?.model ?? null),
      template_id: template?.id ?? null,
      template_version: template ? (version ?? null) : null,
      conversation_id: conversation?.id ?? null,
      tags: '[]',
      metadata: null,
      stream: stream ? 1 : 0,
      input_tokens: input,
      output_tokens: output,
      cached_tokens: cached,
      reasoning_tokens: reasoning,
      cache_creation_tokens: 0,
      usage_estimated: 0,
      usage_incomplete: status === 499 ? 1 : 0,
      cost_usd: cost,
      total_ms: Math.round(total * 100) / 100,
      ttft_ms: stream && served ? Math.round(ttft * 100) / 100 : null,
      upstream_ms: served ? Math.round((total - overhead) * 100) / 100 : null,
      overhead_ms: Math.round(overhead * 100) / 100,
      attempt_count: status === 502 ? 3 : 1,
      attempts: '[]',
      routing: null,
      access: JSON.stringify({ decision: 'allow' }),
      limit_actions: '[]',
      cache_hit: 0,
    };
  }
}

function cumulative(weights: number[]): number[] {
  let sum = 0;
  return weights.map((weight) => (sum += weight));
}
