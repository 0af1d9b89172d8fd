import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRules, firstMatch, lastUserText, type RuleFacts } from './rules.js';

function facts(overrides: Partial<RuleFacts> = {}): RuleFacts {
  return { model: 'smart', endpoint: 'chat', plan: 'free', team: 'support', headers: {}, metadata: undefined, lastUserText: () => '', promptTokens: () => 100, ...overrides };
}

describe('routing rules', () => {
  const rules = compileRules([
    { name: 'summaries', models: ['smart'], when: { keywords: ['summarize', 'tl;dr'], max_prompt_tokens: 500 }, use_model: 'cheap' },
    { name: 'legal', when: { pattern: '\\bcontract' }, use_model: 'strong' },
    { name: 'tagged', when: { metadata: { task: 'draft' }, headers: { 'X-Task-Tier': 'gold' } }, use_model: 'strong' },
    { name: 'enterprise', when: { plans: ['enterprise'], teams: ['legal'] }, add_models: ['strong'] },
  ]);
  const match = (overrides: Partial<RuleFacts>) => firstMatch(rules, facts(overrides))?.name;

  it('matches keywords as whole words, case-insensitively, with the token bound', () => {
    assert.equal(match({ lastUserText: () => 'Please SUMMARIZE this' }), 'summaries');
    assert.equal(match({ lastUserText: () => 'tl;dr please' }), 'summaries');
    assert.equal(match({ lastUserText: () => 'summarizers are neat' }), undefined);
    assert.equal(match({ lastUserText: () => 'summarize this', promptTokens: () => 501 }), undefined);
    assert.equal(match({ lastUserText: () => 'summarize this', model: 'other' }), undefined);
  });

  it('matches a pattern, metadata and headers, plans and teams', () => {
    assert.equal(match({ lastUserText: () => 'Review this Contract' }), 'legal');
    assert.equal(match({ metadata: { task: 'draft' }, headers: { 'x-task-tier': 'gold' } }), 'tagged');
    assert.equal(match({ metadata: { task: 'draft' } }), undefined);
    assert.equal(match({ plan: 'enterprise', team: 'legal' }), 'enterprise');
    assert.equal(match({ plan: 'enterprise', team: 'support' }), undefined);
  });

  it('computes the token count only when every cheaper condition held', () => {
    let counted = 0;
    match({ lastUserText: () => 'nothing to see', promptTokens: () => ++counted });
    assert.equal(counted, 0);
  });

  it('reads the last user message, text parts joined', () => {
    assert.equal(
      lastUserText([
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'reply' },
        { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] },
      ]),
      'a\nb',
    );
  });
});
