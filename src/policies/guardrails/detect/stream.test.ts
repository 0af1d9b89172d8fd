import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PII_ENTITIES, loadEntityCorpus, secretCorpora } from '../../../../test/fixtures/guardrails/corpus.js';
import { PROMPT_4KB_PII } from '../../../../test/fixtures/guardrails/prompts.js';
import { createDetector, type Detector } from './detector.js';
import { WORD_CAP } from './hold.js';
import { PRIVATE_KEY_CAP } from './secrets.js';
import { StreamScanner } from './stream.js';
import type { Finding } from './types.js';

const detector = createDetector();
const mark = (finding: Pick<Finding, 'type' | 'subtype'>): string => `<${finding.type}${finding.subtype === undefined ? '' : `:${finding.subtype}`}>`;

/** What a non-streaming redaction of the whole text gives. */
function redactWhole(text: string, d: Detector = detector): string {
  let out = '';
  let cursor = 0;
  for (const finding of d.detect(text)) {
    out += text.slice(cursor, finding.sourceStart) + mark(finding);
    cursor = finding.sourceEnd;
  }
  return out + text.slice(cursor);
}

function redactStream(chunks: readonly string[], d: Detector = detector): string {
  const scanner = new StreamScanner(d, { onFinding: (finding) => mark(finding) });
  let out = '';
  for (const chunk of chunks) out += scanner.push(chunk);
  return out + scanner.end();
}

function corpusTexts(): Array<{ text: string; values: string[] }> {
  const items: Array<{ text: string; values: string[] }> = [];
  for (const entity of PII_ENTITIES) {
    const corpus = loadEntityCorpus(entity);
    items.push(...corpus.positives, ...corpus.negatives.map((item) => ({ text: item.text, values: [] })));
  }
  for (const corpus of secretCorpora()) items.push(...corpus.positives, ...corpus.negatives.map((item) => ({ text: item.text, values: [] })));
  return items;
}

function chunked(text: string, seed: number, maxSize: number): string[] {
  const chunks: string[] = [];
  let state = seed;
  for (let i = 0; i < text.length; ) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = 1 + (state % maxSize);
    chunks.push(text.slice(i, i + size));
    i += size;
  }
  return chunks;
}

describe('StreamScanner', () => {
  it('matches the whole-text redaction at every split point of every corpus text, and char by char', () => {
    let checked = 0;
    for (const { text, values } of corpusTexts()) {
      const expected = redactWhole(text);
      const splits = [[...text]];
      for (let i = 1; i < text.length; i += 1) splits.push([text.slice(0, i), text.slice(i)]);
      for (const chunks of splits) {
        const got = redactStream(chunks);
        assert.equal(got, expected, `split ${JSON.stringify(chunks.length === text.length ? 'per character' : chunks[0])} of ${JSON.stringify(text)}`);
        for (const value of values) {
          // A labelled value the whole-text pass finds never appears in the output, even in part.
          if (!expected.includes(value) && value.length >= 8) assert.ok(!got.includes(value.slice(-6)), `tail of ${value} leaked`);
        }
        checked += 1;
      }
    }
    assert.ok(checked > 20_000, `${checked} splits`);
  });

  it('matches the whole-text redaction of a 4 KB prompt with PII under random chunkings', () => {
    const expected = redactWhole(PROMPT_4KB_PII);
    for (let seed = 1; seed <= 20; seed += 1) assert.equal(redactStream(chunked(PROMPT_4KB_PII, seed, 12)), expected, `seed ${seed}`);
  });

  it('holds back only the unfinished word of ordinary prose', () => {
    const scanner = new StreamScanner(detector, { onFinding: mark });
    const prose = 'The parcels arrived late because the courier changed routes twice. ';
    let out = '';
    let most = 0;
    for (const ch of prose) {
      out += scanner.push(ch);
      most = Math.max(most, scanner.heldBack);
    }
    assert.equal(most, 'courier'.length, 'the longest word');
    assert.equal(scanner.heldBack, 0, 'nothing after a space');
    assert.equal(out, prose);
  });

  it('lets onFinding terminate the stream before any of the value is emitted', () => {
    const value = ['AK', 'IAIOSFODNN7EXAMPLE'].join('');
    const text = `Here is the key: ${value} and more text after it.`;
    for (let size = 1; size <= 7; size += 1) {
      const scanner = new StreamScanner(detector, {
        onFinding: () => {
          throw new Error('terminate');
        },
      });
      let out = '';
      assert.throws(() => {
        for (const chunk of chunked(text, size, size)) out += scanner.push(chunk);
        out += scanner.end();
      }, /terminate/);
      assert.ok(text.startsWith(out) && out.length <= text.indexOf(value), `emitted ${JSON.stringify(out)}`);
      assert.throws(() => scanner.push('more'), /after end or after onFinding threw/);
    }
  });

  it('gives onFinding the matched original text and offsets in the whole stream', () => {
    const seen: string[] = [];
    const scanner = new StreamScanner(detector, {
      onFinding: (finding, matched) => {
        seen.push(`${finding.sourceStart}-${finding.sourceEnd}:${matched}`);
        return '[EMAIL]';
      },
    });
    const text = `${'x '.repeat(400)}write to a.b@ex\u200bample.com now, or c@d.io`;
    let out = '';
    for (const chunk of chunked(text, 3, 5)) out += scanner.push(chunk);
    out += scanner.end();
    const first = text.indexOf('a.b@');
    assert.deepEqual(seen, [`${first}-${first + 16}:a.b@ex\u200bample.com`, `${text.length - 6}-${text.length}:c@d.io`]);
    assert.equal(out, `${'x '.repeat(400)}write to [EMAIL] now, or [EMAIL]`);
  });

  it('holds an open private key block until its END line, however long', () => {
    const header = ['-----BEGIN', ' RSA PRIVATE KEY-----'].join('');
    const body = Array.from({ length: 50 }, (_, i) => `MIIEow${String(i).padStart(2, '0')}${'AbCd1234'.repeat(7)}`).join('\n');
    const text = `key:\n${header}\n${body}\n${header.replace('BEGIN', 'END')}\nthanks`;
    const scanner = new StreamScanner(detector, { onFinding: () => '[KEY]' });
    let out = '';
    for (const chunk of chunked(text, 5, 40)) {
      out += scanner.push(chunk);
      assert.ok(!out.includes('MIIEow'), 'no body line emitted');
    }
    out += scanner.end();
    assert.equal(out, 'key:\n[KEY]\nthanks');
  });

  it('replaces a block longer than the cap once and drops the rest of its body', () => {
    const header = ['-----BEGIN', ' PRIVATE KEY-----'].join('');
    const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2';
    const lines = Math.ceil((PRIVATE_KEY_CAP * 1.5) / (line.length + 1));
    const body = Array.from({ length: lines }, () => line).join('\n');
    for (const tail of [`\n${header.replace('BEGIN', 'END')}\nafter`, '\n\nafter the key\n']) {
      const scanner = new StreamScanner(detector, { onFinding: () => '[KEY]' });
      let out = '';
      let most = 0;
      for (const chunk of chunked(`before\n${header}\n${body}${tail}`, 11, 300)) {
        out += scanner.push(chunk);
        most = Math.max(most, scanner.heldBack);
      }
      out += scanner.end();
      assert.ok(!out.includes(line), 'no body line emitted');
      assert.match(out, /^before\n\[KEY\]/);
      assert.ok(out.endsWith('after') || out.endsWith('after the key\n'), JSON.stringify(out.slice(-40)));
      assert.ok(most <= PRIVATE_KEY_CAP + 400, `held at most the cap (held ${most})`);
    }
  });

  it('streams long runs without spaces (base64, minified JSON) in linear time and the same result', () => {
    const blob = Buffer.from(Array.from({ length: 15_000 }, (_, i) => i % 251)).toString('base64');
    const json = JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ id: i, mail: i === 150 ? 'x.y@example.com' : `user${i}` })));
    for (const text of [`data:${blob} then mail a@example.com`, json]) {
      const scanner = new StreamScanner(detector, { onFinding: mark });
      let out = '';
      let most = 0;
      const started = process.cpuUsage();
      for (const chunk of chunked(text, 5, 6)) {
        out += scanner.push(chunk);
        most = Math.max(most, scanner.heldBack);
      }
      out += scanner.end();
      const used = process.cpuUsage(started);
      assert.equal(out, redactWhole(text));
      assert.ok(most <= WORD_CAP + 1024 + 6, `held ${most}`);
      assert.ok(used.user + used.system < 2_000_000, `${used.user + used.system} µs of CPU`);
    }
  });

  it('holds back maxLength - 1 characters when custom entities are configured', () => {
    const custom = createDetector({ entities: [], custom: [{ name: 'project', pattern: 'Project Falcon', maxLength: 20 }] });
    const text = 'We start Project Falcon next week, said the team lead in the meeting.';
    for (let i = 1; i < text.length; i += 1) assert.equal(redactStream([text.slice(0, i), text.slice(i)], custom), redactWhole(text, custom));
    const scanner = new StreamScanner(custom, { onFinding: mark });
    scanner.push(text);
    assert.equal(scanner.heldBack, 19);
  });
});
