import type { GuardrailsConfig, InputAction } from '../../config/guardrails-schema.js';
import type { CanonicalMessage } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { GuardDecision, Trust } from '../../core/request-record.js';
import { createDetector, PlaceholderVault, scoreInjection, stripInjection, normalize, type Detector, type Finding } from './detect/index.js';
import { AllowList } from './allow-list.js';
import { rewriteTexts, textSlots, type TextSlot } from './message-text.js';

/** What the input guards decided for one request; the variants are built per trust level on demand. */
export interface InputInspection {
  /** Serve from `guardrails.reroute_model` instead. */
  reroute: boolean;
  /** Trust levels that may not receive this request, with the entity that forbids each. */
  blocked: ReadonlyMap<Trust, string>;
  /** The messages as a provider of this trust level may see them (masked, tokenized). */
  messagesFor(trust: Trust): readonly CanonicalMessage[];
  /** Holds tokenized values, to restore them in the answer; undefined when nothing was tokenized. */
  vault(): PlaceholderVault | undefined;
}

interface SlotFindings {
  findings: Finding[];
}

/**
 * The input side of the guardrails, compiled once per config: injection heuristics, deny
 * patterns, then personal data and secrets with an action per entity and trust level.
 */
export class InputGuard {
  private readonly detector: Detector;
  private readonly deny: Array<{ name: string; pattern: RegExp }>;
  private readonly injectionRoles: ReadonlySet<string>;
  private readonly allowed: AllowList;

  constructor(private readonly config: GuardrailsConfig) {
    this.detector = createDetector({ custom: config.custom_entities.map((entity) => ({ name: entity.name, pattern: entity.pattern, validator: entity.validator })) });
    this.deny = config.deny_patterns.map((entry) => ({ name: entry.name, pattern: new RegExp(entry.pattern, 'iu') }));
    this.injectionRoles = new Set(config.injection.roles);
    this.allowed = new AllowList(config.allow_patterns);
  }

  /**
   * Throws BB_GUARDRAIL_BLOCKED for a refused request; otherwise says how to send it. Every
   * decision is appended to `decisions` (the request record's), refusals included.
   */
  inspect(original: readonly CanonicalMessage[], decisions: GuardDecision[], options: { tokenizeAsMask?: boolean } = {}): InputInspection {
    const messages = this.checkInjection(original, decisions);
    const perSlot: SlotFindings[] = [];
    let index = 0;
    for (const slot of textSlots(messages)) {
      this.checkDeny(slot, decisions);
      let findings = this.detector.detect(slot.text);
      if (!this.allowed.empty) findings = findings.filter((finding) => !this.allowed.allows(slot.text.slice(finding.sourceStart, finding.sourceEnd)));
      perSlot[index] = { findings: findings.sort((a, b) => a.sourceStart - b.sourceStart) };
      index += 1;
    }
    const blocked = new Map<Trust, string>();
    let reroute = false;
    const seen = new Set<string>();
    for (const { findings } of perSlot) {
      for (const finding of findings) {
        for (const trust of ['internal', 'external'] as const) {
          const action = this.actionFor(finding.type, trust);
          if (action === 'allow') continue;
          if (action === 'block' && !blocked.has(trust)) blocked.set(trust, finding.type);
          if (action === 'reroute') reroute = true;
          const key = `${finding.type}|${action}|${trust}`;
          if (!seen.has(key)) {
            seen.add(key);
            decisions.push({ guard: 'pii', entity: finding.type, action, where: 'input', trust });
          }
        }
      }
    }
    if (blocked.size === 2) {
      throw new GatewayError('BB_GUARDRAIL_BLOCKED', `The request contains ${article(blocked.get('external') ?? '')}, which this gateway does not send to any provider.`, { param: 'messages' });
    }
    let vault: PlaceholderVault | undefined;
    const variants = new Map<Trust, readonly CanonicalMessage[]>();
    return {
      reroute,
      blocked,
      messagesFor: (trust) => {
        let variant = variants.get(trust);
        if (!variant) {
          variant = rewriteTexts(messages, (slot, at) => this.rewrite(slot.text, perSlot[at]?.findings ?? [], trust, options.tokenizeAsMask === true ? undefined : () => (vault ??= new PlaceholderVault())));
          variants.set(trust, variant);
        }
        return variant;
      },
      vault: () => vault,
    };
  }

  private actionFor(entity: string, trust: Trust): InputAction {
    return this.config.entities[entity]?.[trust] ?? 'allow';
  }

  /** Masks and tokenizes the findings whose action at this trust level says so. */
  private rewrite(text: string, findings: readonly Finding[], trust: Trust, vault: (() => PlaceholderVault) | undefined): string {
    let out = '';
    let cursor = 0;
    for (const finding of findings) {
      const action = this.actionFor(finding.type, trust);
      if ((action !== 'mask' && action !== 'tokenize') || finding.sourceStart < cursor) continue;
      out += text.slice(cursor, finding.sourceStart);
      const value = text.slice(finding.sourceStart, finding.sourceEnd);
      out += action === 'mask' || vault === undefined ? `[${finding.type.toUpperCase()}]` : vault().placeholderFor(finding.type, value, text);
      cursor = finding.sourceEnd;
    }
    return cursor === 0 ? text : out + text.slice(cursor);
  }

  private checkInjection(messages: readonly CanonicalMessage[], decisions: GuardDecision[]): readonly CanonicalMessage[] {
    const { action, threshold } = this.config.injection;
    if (action === 'off') return messages;
    let flagged = false;
    const checked = rewriteTexts(messages, (slot) => {
      if (!this.injectionRoles.has(slot.role) || slot.kind !== 'content') return slot.text;
      if (scoreInjection(slot.text).score < threshold) return slot.text;
      if (!flagged) decisions.push({ guard: 'injection', action, where: 'input' });
      flagged = true;
      if (action === 'block') throw new GatewayError('BB_GUARDRAIL_BLOCKED', `A ${slot.role} message looks like a prompt-injection attempt; the request was refused.`, { param: 'messages' });
      return action === 'strip' ? stripInjection(slot.text) : slot.text;
    });
    return checked;
  }

  private checkDeny(slot: TextSlot, decisions: GuardDecision[]): void {
    if (this.deny.length === 0) return;
    const text = normalize(slot.text).text;
    for (const entry of this.deny) {
      if (entry.pattern.test(text)) {
        decisions.push({ guard: 'deny', entity: entry.name, action: 'block', where: 'input' });
        throw new GatewayError('BB_GUARDRAIL_BLOCKED', `The request matches the deny pattern '${entry.name}'.`, { param: 'messages' });
      }
    }
  }
}

function article(entity: string): string {
  return `${/^[aeiou]/.test(entity) ? 'an' : 'a'} ${entity.replace(/_/g, ' ')}`;
}
