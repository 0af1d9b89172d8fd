import type { Identity } from '../auth/identity.js';
import { GatewayError, toGatewayError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import { appended } from '../core/small-arrays.js';
import { AccessDeniedError, type AccessPolicy, type AccessRequest } from '../policies/access/index.js';
import { publishRequestSettled, recordsDurable, type RequestRecord } from '../core/request-record.js';
import type { EncodedError } from '../dialects/dialect.js';
import { ExecutionError, type Execution } from '../routing/execute.js';
import type { Exchange, Reply, SettleInfo } from './exchange.js';

/**
 * The state of one request as it moves through the phases: the record that settle publishes,
 * plus the helpers every endpoint needs (JSON body, response headers, error replies).
 */
export class RequestScope {
  readonly record: RequestRecord;
  private settled = false;
  private settleHooks: Array<() => void> | undefined;
  /** The provider type and upstream model that answered, for pricing at settle. */
  served: { providerName: string; providerType: string; model: string } | undefined;

  constructor(
    readonly exchange: Exchange,
    endpoint: RequestRecord['endpoint'],
    dialect: string | undefined,
  ) {
    this.record = {
      requestId: exchange.requestId,
      startedAt: Date.now(),
      method: exchange.method,
      path: exchange.path,
      endpoint,
      dialect,
      status: 0,
      errorCode: undefined,
      keyName: undefined,
      principal: undefined,
      customer: undefined,
      access: undefined,
      guards: [],
      conversationId: undefined,
      templateId: undefined,
      templateVersion: undefined,
      tags: [],
      metadata: undefined,
      limitActions: [],
      requestedModel: undefined,
      provider: undefined,
      servedModel: undefined,
      stream: false,
      usage: undefined,
      costUsd: undefined,
      usageIncomplete: false,
      attempts: [],
      routing: undefined,
      totalMs: 0,
      ttftMs: undefined,
      streamGaps: undefined,
      trace: undefined,
      maxTokens: undefined,
      finishReasons: undefined,
      rejectedLimit: undefined,
      bodies: undefined,
      upstreamMs: undefined,
      gatewayOverheadMs: undefined,
    };
  }

  /** The authenticate phase: resolves the caller and records who it is (never the secret). */
  async authenticate(identity: Identity): Promise<Principal> {
    const principal = await identity.authenticate(this.exchange.headers);
    this.record.keyName = principal.keyName;
    this.record.principal = {
      source: principal.source,
      keyId: principal.keyId,
      displayPrefix: principal.displayPrefix,
      user: principal.userName,
      team: principal.teamName,
      org: principal.orgId,
      plan: principal.plan?.name,
    };
    return principal;
  }

  /** The access part of admission; the decision is recorded either way. */
  checkAccess(policy: AccessPolicy, identity: Identity, principal: Principal, request: AccessRequest, customer: string | undefined): void {
    this.record.customer = customer;
    const customers = identity.current.customers;
    try {
      this.record.access = policy.check(principal, request, customer === undefined ? undefined : { id: customer, gate: { isBlocked: (id) => customers.get(id)?.blocked === true } });
    } catch (error) {
      if (error instanceof AccessDeniedError) this.record.access = { decision: 'deny', rule: error.rule };
      throw error;
    }
  }

  /** Runs the attempt loop, recording its attempts and the served target whatever the outcome. */
  async execute<T>(run: Promise<Execution<T>>): Promise<Execution<T>> {
    let execution: Execution<T>;
    try {
      execution = await run;
    } catch (error) {
      if (error instanceof ExecutionError) {
        this.record.attempts = error.attempts;
        this.record.routing = error.routing;
      }
      throw error;
    }
    this.record.attempts = execution.attempts;
    this.record.routing = execution.routing;
    this.record.provider = execution.target.providerName;
    this.record.servedModel = execution.target.model;
    this.served = { providerName: execution.target.providerName, providerType: execution.target.adapter.type, model: execution.target.model };
    this.record.upstreamMs = execution.upstreamMs;
    return execution;
  }

  elapsedMs(): number {
    return performance.now() - this.exchange.startedAt;
  }

  /** Reads and parses the JSON body: 415 for another content type, 400 for broken JSON. */
  async readJson(): Promise<unknown> {
    const contentType = this.exchange.headers['content-type'];
    if (contentType === undefined || !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
      throw new GatewayError('BB_UNSUPPORTED_MEDIA_TYPE', `Send the body as application/json (got ${contentType ? `'${contentType.split(';')[0]}'` : 'no content type'}).`);
    }
    const raw = await this.exchange.readBody();
    if (raw.length === 0) throw new GatewayError('BB_INVALID_JSON', 'The request body is empty; send a JSON object.');
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch (error) {
      // The parser's own message quotes the body; say only where it broke.
      const position = /position (\d+)/.exec((error as Error).message)?.[1];
      throw new GatewayError('BB_INVALID_JSON', `The request body is not valid JSON${position === undefined ? '' : ` (at position ${position})`}.`);
    }
  }

  /** Headers every reply carries. */
  baseHeaders(contentType: string): Record<string, string> {
    return { 'content-type': contentType, 'x-request-id': this.exchange.requestId };
  }

  /** Adds the served target and timing headers (`server-timing`: gateway overhead and upstream time). */
  routingHeaders(headers: Record<string, string>): Record<string, string> {
    const { provider, servedModel, upstreamMs, attempts } = this.record;
    if (provider !== undefined) headers['x-breakerbox-provider'] = provider;
    if (servedModel !== undefined) headers['x-breakerbox-model'] = servedModel;
    const served = attempts[attempts.length - 1];
    if (served?.outcome === 'ok') headers['x-breakerbox-target'] = served.target;
    if (this.record.routing?.rule !== undefined) headers['x-breakerbox-rule'] = this.record.routing.rule;
    headers['x-breakerbox-attempts'] = String(attempts.length);
    const total = this.elapsedMs();
    const upstream = upstreamMs ?? 0;
    this.record.gatewayOverheadMs = Math.max(0, total - upstream);
    headers['server-timing'] = `gateway;dur=${(total - upstream).toFixed(3)}, upstream;dur=${upstream.toFixed(3)}`;
    return headers;
  }

  json(status: number, body: string, headers: Record<string, string> = this.baseHeaders('application/json')): Reply {
    return { status, headers, body, onSettled: this.settler };
  }

  /** The error reply in the endpoint's dialect; the error is recorded, its cause never shown. */
  errorReply(thrown: unknown, encode: (error: GatewayError, requestId: string) => EncodedError): Reply {
    const error = toGatewayError(thrown, this.exchange.requestId);
    this.record.errorCode = error.code;
    if (error.limit !== undefined) this.record.rejectedLimit = error.limit;
    const encoded = encode(error, this.exchange.requestId);
    const headers = Object.assign(this.baseHeaders('application/json'), encoded.headers);
    // Failed attempts are part of the answer's story: say how many targets were tried.
    if (this.record.attempts.length > 0) headers['x-breakerbox-attempts'] = String(this.record.attempts.length);
    return this.json(encoded.status, encoded.body, headers);
  }

  /** Runs in the settle phase, before the record is published (e.g. limits book the actual use). */
  onSettle(hook: () => void): void {
    this.settleHooks = appended(this.settleHooks, hook);
  }

  /** `settle` as a reply's `onSettled`: one closure per request, holding only the scope. */
  readonly settler = (info: SettleInfo): Promise<void> | undefined => this.settle(info);

  /** The settle phase: always runs once, on success, error and client abort alike. */
  settle(info: SettleInfo): Promise<void> | undefined {
    if (this.settled) return undefined;
    this.settled = true;
    this.record.status = info.status;
    if (info.clientClosed && this.record.errorCode === undefined) this.record.errorCode = 'BB_CLIENT_CLOSED';
    this.record.totalMs = this.elapsedMs();
    for (const hook of this.settleHooks ?? []) hook();
    publishRequestSettled(this.record);
    // Resolves once the record is on disk (the ledger's group commit); the last byte waits for it.
    // A request alone in flight has nothing to share a commit with: it is written now.
    return recordsDurable(info.alone === true);
  }
}
