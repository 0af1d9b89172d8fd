import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDetector } from './detector.js';
import { PlaceholderVault, RestoreStream } from './vault.js';

const detector = createDetector();

function splits(text: string): string[][] {
  const out: string[][] = [[...text]];
  for (let i = 1; i < text.length; i += 1) out.push([text.slice(0, i), text.slice(i)]);
  for (let i = 1; i < text.length; i += 3) for (let j = i + 1; j < text.length; j += 5) out.push([text.slice(0, i), text.slice(i, j), text.slice(j)]);
  return out;
}

function restoreStream(vault: PlaceholderVault, chunks: readonly string[], json = false): string {
  const stream = new RestoreStream(vault, { json });
  let out = '';
  for (const chunk of chunks) out += stream.push(chunk);
  return out + stream.end();
}

describe('PlaceholderVault', () => {
  it('protects findings with typed placeholders and restores the original text', () => {
    const vault = new PlaceholderVault();
    const text = 'Mail j\u200bohn@example.com or jane@example.org; SSN 123-45-6789; again john@example.com? No: j\u200bohn@example.com.';
    const protectedText = vault.protect(text, detector.detect(text));
    assert.equal(protectedText, 'Mail [EMAIL_1] or [EMAIL_2]; SSN [SSN_1]; again [EMAIL_3]? No: [EMAIL_1].');
    assert.equal(vault.restore(protectedText), text, 'the exact original, invisible characters included');
    assert.equal(vault.size, 4);
  });

  it('never hands out a placeholder the protected text already contains', () => {
    const vault = new PlaceholderVault();
    const text = 'Literal [EMAIL_1] in the prompt, and a@example.com';
    const protectedText = vault.protect(text, detector.detect(text));
    assert.equal(protectedText, 'Literal [EMAIL_1] in the prompt, and [EMAIL_2]');
    assert.equal(vault.restore(protectedText), text);
    assert.equal(vault.restore('[EMAIL_9] and [PHONE_1] stay'), '[EMAIL_9] and [PHONE_1] stay', 'unknown placeholders stay');
  });

  it('labels custom and multi-word types safely', () => {
    const vault = new PlaceholderVault();
    assert.equal(vault.placeholderFor('payment_card', '4111111111111111'), '[PAYMENT_CARD_1]');
    assert.equal(vault.placeholderFor('employee-id', 'E1'), '[EMPLOYEE_ID_1]');
    assert.equal(vault.placeholderFor('9x', 'v'), '[X_1]');
  });

  it('restores inside JSON strings (tool-call arguments) so the JSON stays valid', () => {
    const vault = new PlaceholderVault();
    const tricky = 'Ann "the boss" O\'Neil \\ <ann@example.com>\n\u2028';
    const placeholder = vault.placeholderFor('contact', tricky);
    const args = JSON.stringify({ to: placeholder, note: `cc ${placeholder}` });
    const restored = vault.restore(args, { json: true });
    assert.deepEqual(JSON.parse(restored), { to: tricky, note: `cc ${tricky}` });
    for (const chunks of splits(args)) assert.deepEqual(JSON.parse(restoreStream(vault, chunks, true)), { to: tricky, note: `cc ${tricky}` });
  });
});

describe('RestoreStream', () => {
  it('restores placeholders split across chunks at every position', () => {
    const vault = new PlaceholderVault();
    const text = 'Call 415-555-2671 or mail a@example.com, [not a placeholder] and [EMAIL_';
    const protectedText = vault.protect(text, detector.detect(text));
    assert.equal(protectedText, 'Call [PHONE_1] or mail [EMAIL_1], [not a placeholder] and [EMAIL_');
    for (const chunks of splits(protectedText)) assert.equal(restoreStream(vault, chunks), text, JSON.stringify(chunks));
  });

  it('holds back only a possible placeholder prefix', () => {
    const vault = new PlaceholderVault();
    vault.placeholderFor('email', 'a@example.com');
    const stream = new RestoreStream(vault);
    assert.equal(stream.push('see [EM'), 'see ');
    assert.equal(stream.heldBack, 3);
    assert.equal(stream.push('AIL_1] and [x'), 'a@example.com and [x');
    assert.equal(stream.heldBack, 0);
    assert.equal(stream.push('[EMAIL_12345678901'), '[EMAIL_12345678901', 'longer than any placeholder: released');
    assert.equal(stream.end(), '');
  });
});
