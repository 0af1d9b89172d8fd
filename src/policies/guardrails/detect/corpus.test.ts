import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PII_ENTITIES, loadEntityCorpus, loadInjectionCorpus, score, secretCorpora, type EntityCorpus } from '../../../../test/fixtures/guardrails/corpus.js';
import { createDetector } from './detector.js';
import { INJECTION_THRESHOLD, scoreInjection } from './injection.js';

/**
 * Precision and recall the detector reaches on the labelled corpus, kept as floors (documented in
 * docs/guardrails-detection.md). They are what the detector achieves today, not targets: a change
 * that loses ground fails here; a change that gains ground should raise them.
 */
const FLOORS: Readonly<Record<string, { precision: number; recall: number }>> = {
  email: { precision: 1, recall: 0.94 },
  phone: { precision: 1, recall: 0.95 },
  ssn: { precision: 1, recall: 0.96 },
  payment_card: { precision: 0.97, recall: 0.97 },
  iban: { precision: 1, recall: 0.97 },
  ip_address: { precision: 0.97, recall: 1 },
  aws_access_key_id: { precision: 1, recall: 1 },
  aws_secret_access_key: { precision: 1, recall: 1 },
  github_token: { precision: 1, recall: 1 },
  slack_token: { precision: 1, recall: 1 },
  stripe_key: { precision: 1, recall: 1 },
  openai_key: { precision: 1, recall: 1 },
  anthropic_key: { precision: 1, recall: 1 },
  google_api_key: { precision: 1, recall: 1 },
  private_key: { precision: 1, recall: 1 },
  jwt: { precision: 1, recall: 1 },
  bearer_token: { precision: 1, recall: 1 },
  generic_secret: { precision: 1, recall: 0.9 },
  injection: { precision: 0.94, recall: 0.94 },
};

const detector = createDetector();
const pct = (value: number): string => `${(value * 100).toFixed(1)}%`;

function check(name: string, corpus: EntityCorpus): void {
  const result = score(detector, corpus);
  const floor = FLOORS[name];
  assert.ok(floor !== undefined, `no floor for ${name}`);
  const detail = `${name}: precision ${pct(result.precision)} (tp ${result.tp}, fp ${result.fp}), recall ${pct(result.recall)} (fn ${result.fn})\n  misses: ${JSON.stringify(result.misses)}\n  false alarms: ${JSON.stringify(result.falseAlarms)}`;
  assert.ok(result.precision >= floor.precision, detail);
  assert.ok(result.recall >= floor.recall, detail);
}

describe('labelled corpus: precision and recall per entity', () => {
  for (const entity of PII_ENTITIES) {
    it(entity, () => {
      const corpus = loadEntityCorpus(entity);
      assert.ok(corpus.positives.length >= 30 && corpus.negatives.length >= 30, 'at least 30 positives and 30 near misses');
      check(entity, corpus);
    });
  }

  for (const corpus of secretCorpora()) {
    it(`secret/${corpus.subtype}`, () => {
      assert.ok(corpus.positives.length >= 10 && corpus.negatives.length >= 10, 'at least 10 positives and 10 near misses');
      check(corpus.subtype as string, corpus);
    });
  }

  it('corpus includes Unicode evasion variants for every PII entity', () => {
    for (const entity of PII_ENTITIES) {
      const evasive = loadEntityCorpus(entity).positives.filter((item) => /[\u200b-\u200f\u202a-\u202e\u2060\u00ad\uff00-\uffef\u0400-\u04ff\u0660-\u06ff\u0900-\u09ff]/.test(item.text));
      assert.ok(evasive.length >= 3, `${entity}: ${evasive.length} evasion variants`);
    }
  });
});

describe('labelled injection set', () => {
  it(`precision and recall at score >= ${INJECTION_THRESHOLD}`, () => {
    const { attacks, benign } = loadInjectionCorpus();
    const caught = attacks.filter((text) => scoreInjection(text).score >= INJECTION_THRESHOLD);
    const falseAlarms = benign.filter((text) => scoreInjection(text).score >= INJECTION_THRESHOLD);
    const precision = caught.length / (caught.length + falseAlarms.length);
    const recall = caught.length / attacks.length;
    const detail = `precision ${pct(precision)}, recall ${pct(recall)}\n  missed: ${JSON.stringify(attacks.filter((t) => !caught.includes(t)))}\n  false alarms: ${JSON.stringify(falseAlarms)}`;
    assert.ok(attacks.length >= 30 && benign.length >= 30);
    assert.ok(precision >= (FLOORS.injection?.precision ?? 1), detail);
    assert.ok(recall >= (FLOORS.injection?.recall ?? 1), detail);
  });
});
