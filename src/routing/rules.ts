import type { RoutingRuleConfig } from '../config/routing-schema.js';
import type { CanonicalMessage } from '../core/canonical.js';

/** What a rule may look at; the costly facts (text, token count) are computed only when asked. */
export interface RuleFacts {
  model: string;
  endpoint: 'chat' | 'embeddings';
  plan: string | undefined;
  team: string | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  metadata: Readonly<Record<string, string>> | undefined;
  lastUserText(): string;
  promptTokens(): number;
}

/** What a matching rule does to the request's candidates. */
export interface RuleAction {
  useModel?: string;
  onlyTargets?: ReadonlySet<string>;
  addModels?: readonly string[];
}

export interface CompiledRule {
  name: string;
  action: RuleAction;
  matches(facts: RuleFacts): boolean;
}

/** Compiles rules once per config: regexes built, lists turned into sets. */
export function compileRules(rules: readonly RoutingRuleConfig[]): CompiledRule[] {
  return rules.map((rule) => ({
    name: rule.name,
    action: {
      ...(rule.use_model !== undefined ? { useModel: rule.use_model } : {}),
      ...(rule.only_targets !== undefined ? { onlyTargets: new Set(rule.only_targets) } : {}),
      ...(rule.add_models !== undefined ? { addModels: rule.add_models } : {}),
    },
    matches: compileMatch(rule),
  }));
}

/** The first rule that matches, if any. */
export function firstMatch(rules: readonly CompiledRule[], facts: RuleFacts): CompiledRule | undefined {
  for (const rule of rules) if (rule.matches(facts)) return rule;
  return undefined;
}

type Check = (facts: RuleFacts) => boolean;

function compileMatch(rule: RoutingRuleConfig): Check {
  const when = rule.when;
  // Cheap checks first; the text scan and the tokenizer run last, and only if all else held.
  const checks: Check[] = [];
  const inList = (list: readonly string[] | undefined, pick: (facts: RuleFacts) => string | undefined) => {
    if (list === undefined) return;
    const allowed = new Set(list);
    checks.push((facts) => {
      const value = pick(facts);
      return value !== undefined && allowed.has(value);
    });
  };
  inList(rule.models, (facts) => facts.model);
  inList(when.endpoints, (facts) => facts.endpoint);
  inList(when.plans, (facts) => facts.plan);
  inList(when.teams, (facts) => facts.team);
  for (const [name, value] of Object.entries(when.headers ?? {})) {
    const lower = name.toLowerCase();
    checks.push((facts) => facts.headers[lower] === value);
  }
  for (const [name, value] of Object.entries(when.metadata ?? {})) checks.push((facts) => facts.metadata?.[name] === value);
  if (when.keywords !== undefined) {
    const words = when.keywords.map(escapeRegex).join('|');
    // Whole words or phrases: "sum" must not match "summary".
    const keywords = new RegExp(`(?<![\\p{L}\\p{N}])(?:${words})(?![\\p{L}\\p{N}])`, 'iu');
    checks.push((facts) => keywords.test(facts.lastUserText()));
  }
  if (when.pattern !== undefined) {
    const pattern = new RegExp(when.pattern, 'iu');
    checks.push((facts) => pattern.test(facts.lastUserText()));
  }
  const { min_prompt_tokens: min, max_prompt_tokens: max } = when;
  if (min !== undefined) checks.push((facts) => facts.promptTokens() >= min);
  if (max !== undefined) checks.push((facts) => facts.promptTokens() <= max);
  return (facts) => checks.every((check) => check(facts));
}

/** The text of the last user message (text parts joined); empty when there is none. */
export function lastUserText(messages: readonly CanonicalMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message?.role !== 'user') continue;
    const content = message.content;
    if (content === null) return '';
    if (typeof content === 'string') return content;
    return content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
  }
  return '';
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
