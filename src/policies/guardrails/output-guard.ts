import type { GuardrailsConfig } from '../../config/guardrails-schema.js';
import type { CanonicalResponse, StreamEvent } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { GuardDecision } from '../../core/request-record.js';
import { AllowList } from './allow-list.js';
import { BUILT_IN_ENTITIES, createDetector, RestoreStream, StreamScanner, type BuiltInEntity, type Detector, type Finding, type PlaceholderVault } from './detect/index.js';

/**
 * The output side: secrets and personal data in model output are redacted or end the answer,
 * and placeholders of tokenized values are put back, on whole answers and on streams alike.
 */
export class OutputGuard {
  private readonly detector: Detector | undefined;
  private readonly allowed: AllowList;

  constructor(private readonly config: GuardrailsConfig) {
    this.allowed = new AllowList(config.allow_patterns);
    const output = config.output;
    const watched = new Set(Object.keys(output.entities));
    if (output.secrets !== 'off') watched.add('secret');
    const builtIns = BUILT_IN_ENTITIES.filter((entity) => watched.has(entity));
    const custom = config.custom_entities.filter((entity) => watched.has(entity.name));
    this.detector = watched.size === 0 ? undefined : createDetector({ entities: builtIns as BuiltInEntity[], custom: custom.map((entity) => ({ name: entity.name, pattern: entity.pattern, validator: entity.validator })) });
  }

  /** Whether any output guard is configured (then answers must come back in canonical form). */
  get watches(): boolean {
    return this.detector !== undefined;
  }

  /** The filter for one answer, or undefined when nothing needs to see its text. */
  filterFor(vault: PlaceholderVault | undefined, decisions: GuardDecision[]): AnswerFilter | undefined {
    if (!this.detector && !vault) return undefined;
    return new AnswerFilter(this.detector, this.config, this.allowed, vault, decisions);
  }
}

interface Channel {
  scanner: StreamScanner | undefined;
  restorer: RestoreStream | undefined;
}

/** One answer's output filter: keeps per-channel stream state (each choice's text, each tool call's arguments). */
export class AnswerFilter {
  private readonly channels = new Map<string, Channel>();
  private readonly recorded = new Set<string>();

  constructor(
    private readonly detector: Detector | undefined,
    private readonly config: GuardrailsConfig,
    private readonly allowed: AllowList,
    private readonly vault: PlaceholderVault | undefined,
    private readonly decisions: GuardDecision[],
  ) {}

  /** A whole answer: every choice's text and tool-call arguments. Throws BB_OUTPUT_BLOCKED to terminate. */
  response(response: CanonicalResponse): CanonicalResponse {
    return {
      ...response,
      choices: response.choices.map((choice) => ({
        ...choice,
        content: choice.content === null ? null : this.whole(choice.content, false),
        ...(choice.reasoning ? { reasoning: choice.reasoning.map((block) => ({ ...block, text: this.whole(block.text, false) })) } : {}),
        ...(choice.toolCalls ? { toolCalls: choice.toolCalls.map((call) => ({ ...call, arguments: this.whole(call.arguments, true) })) } : {}),
      })),
    };
  }

  /** A stream: text is held back only while it could still be part of a match or a placeholder. */
  async *stream(events: AsyncIterable<StreamEvent>): AsyncGenerator<StreamEvent> {
    for await (const event of events) {
      if (event.type === 'text') {
        const text = this.push(`t${event.index}`, event.text, false);
        if (text !== '') yield { ...event, text };
      } else if (event.type === 'reasoning') {
        // Shown reasoning is output too; a signature (if any) rides on the event unchanged.
        const text = this.push(`r${event.index}`, event.text, false);
        if (text !== '' || event.signature !== undefined) yield { ...event, text };
      } else if (event.type === 'tool-call') {
        yield { ...event, argumentsDelta: this.push(`c${event.index}:${event.toolIndex}`, event.argumentsDelta, true) };
      } else {
        if (event.type === 'finish' || event.type === 'usage') yield* this.flush(event.type === 'finish' ? event.index : undefined);
        yield event;
      }
    }
    yield* this.flush(undefined);
  }

  private whole(text: string, json: boolean): string {
    const channel = this.channel(`whole`, json, true);
    const scanned = channel.scanner ? channel.scanner.push(text) + channel.scanner.end() : text;
    return this.vault ? this.vault.restore(scanned, { json }) : scanned;
  }

  private push(key: string, chunk: string, json: boolean): string {
    const channel = this.channel(key, json, false);
    const scanned = channel.scanner ? channel.scanner.push(chunk) : chunk;
    return channel.restorer ? channel.restorer.push(scanned) : scanned;
  }

  /** Emits what channels held back, as the last text or arguments of their choice. */
  private *flush(index: number | undefined): Generator<StreamEvent> {
    for (const [key, channel] of this.channels) {
      const [kind, rest = ''] = [key[0], key.slice(1)];
      const [choice = 0, tool = 0] = rest.split(':').map(Number);
      if (index !== undefined && choice !== index) continue;
      this.channels.delete(key);
      const scanned = channel.scanner ? channel.scanner.end() : '';
      const text = channel.restorer ? channel.restorer.push(scanned) + channel.restorer.end() : scanned;
      if (text === '') continue;
      if (kind === 't') yield { type: 'text', index: choice, text };
      else if (kind === 'r') yield { type: 'reasoning', index: choice, text };
      else yield { type: 'tool-call', index: choice, toolIndex: tool, argumentsDelta: text };
    }
  }

  private channel(key: string, json: boolean, fresh: boolean): Channel {
    let channel = fresh ? undefined : this.channels.get(key);
    if (!channel) {
      channel = {
        scanner: this.detector ? new StreamScanner(this.detector, { onFinding: (finding, matched) => this.onFinding(finding, matched) }) : undefined,
        restorer: this.vault ? new RestoreStream(this.vault, { json }) : undefined,
      };
      if (!fresh) this.channels.set(key, channel);
    }
    return channel;
  }

  private onFinding(finding: Finding, matched: string): string {
    const action = finding.type === 'secret' ? this.config.output.secrets : this.config.output.entities[finding.type];
    // The detector runs only watched entities; anything else, and allow-listed values, pass unchanged.
    if (action === undefined || action === 'off' || this.allowed.allows(matched)) return matched;
    const key = `${finding.type}|${action}`;
    if (!this.recorded.has(key)) {
      this.recorded.add(key);
      this.decisions.push({ guard: 'output', entity: finding.type, action, where: 'output' });
    }
    if (action === 'terminate') throw new GatewayError('BB_OUTPUT_BLOCKED', `The answer contained ${finding.type === 'secret' ? 'a secret' : `a ${finding.type.replace(/_/g, ' ')}`}, so it was stopped.`);
    return `[${finding.type.toUpperCase()}]`;
  }
}
