import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldConfusable } from './confusables.js';
import { normalize } from './normalize.js';

describe('normalize', () => {
  it('returns ASCII and already-normalized text unchanged with an identity map', () => {
    for (const text of ['plain ASCII 123', 'Grüße aus München, déjà vu', '東京都の住所']) {
      const result = normalize(text);
      assert.equal(result.text, text);
      assert.equal(result.map.identity, true);
      assert.deepEqual(result.map.range(2, 5), [2, 5]);
    }
  });

  it('applies NFKC: fullwidth, mathematical and circled forms, ligatures, exotic spaces', () => {
    assert.equal(normalize('４１１１ ＡＫＩＡ ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ').text, '4111 AKIA john@example.com');
    assert.equal(normalize('\ud835\udc1a\ud835\udfcf ① ﬁle a\u00a0b\u2003c').text, 'a1 1 file a b c');
  });

  it('removes zero-width, bidi, soft hyphen, variation selectors and tag characters', () => {
    const text = 'a\u200bb\u200cc\u200dd\u2060e\ufefff\u202eg\u202ch\u2066i\u2069j\u00adk\ufe0fl\udb40\udc41m';
    assert.equal(normalize(text).text, 'abcdefghijklm');
  });

  it('folds Cyrillic and Greek lookalikes, other-script digits and dashes, which NFKC keeps', () => {
    assert.equal('\u0410KIA'.normalize('NFKC'), '\u0410KIA', 'NFKC alone keeps Cyrillic A');
    assert.equal(normalize('\u0410\u041a\u0406\u0410 j\u043ehn \u0391\u039a').text, 'AKIA john AK');
    assert.equal(normalize('\u0661\u0662\u0663 \u06f4\u06f5 \u096c\u096d \u09e8').text, '123 45 67 2');
    assert.equal(normalize('123\u201345\u22126789 a\u3002b').text, '123-45-6789 a.b');
    assert.equal(foldConfusable('a'.charCodeAt(0)), undefined);
  });

  it('maps every normalized range back to the original characters it came from', () => {
    const text = 'x \uff21\u200b\uff22 e\u0301 \ufb01n \ud835\udc1a\u202e! \u0430';
    const { text: normalized, map } = normalize(text);
    assert.equal(normalized, 'x AB é fin a! a');
    // Each normalized unit maps to a source range whose own normalization contains it.
    for (let i = 0; i < normalized.length; i += 1) {
      const [from, to] = map.range(i, i + 1);
      assert.ok(normalize(text.slice(from, to)).text.includes(normalized[i] as string), `unit ${i}`);
    }
    assert.deepEqual(map.range(2, 4), [2, 5], 'AB covers the zero-width space between them');
    assert.equal(text.slice(...map.range(5, 6)), 'e\u0301', 'the combining mark stays with its base');
    assert.equal(text.slice(...map.range(7, 9)), '\ufb01', 'both letters of a ligature map to it');
    assert.equal(map.toOriginal(normalized.length), text.length);
  });

  it('keeps surrogate pairs whole and handles lone surrogates', () => {
    assert.equal(normalize('a\ud83d\ude00b').text, 'a\ud83d\ude00b');
    assert.equal(normalize('a\ud83d').text.length, 2);
  });
});
