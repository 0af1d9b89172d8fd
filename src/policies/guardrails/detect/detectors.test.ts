import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDetector, resolveOverlaps } from './detector.js';
import { cardBrand } from './financial.js';
import { ipv6Valid, ssnValid } from './pii.js';
import { jwtHeaderValid, privateKeyBlock } from './secrets.js';
import type { Finding } from './types.js';
import { ibanValid, looksLikePlaceholder, luhnValid, shannonEntropy } from './validators.js';

const detector = createDetector();
const found = (text: string, only?: string): string[] =>
  detector
    .detect(text)
    .filter((f) => only === undefined || f.type === only)
    .map((f) => `${f.type}${f.subtype === undefined ? '' : `/${f.subtype}`}:${text.slice(f.sourceStart, f.sourceEnd)}`);

describe('validators', () => {
  it('Luhn, IBAN mod-97 and country lengths', () => {
    assert.equal(luhnValid('4111 1111 1111 1111'), true);
    assert.equal(luhnValid('4111 1111 1111 1112'), false);
    assert.equal(luhnValid('0'), false);
    assert.equal(ibanValid('DE89 3704 0044 0532 0130 00'), true);
    assert.equal(ibanValid('DE89 3704 0044 0532 0130 01'), false);
    assert.equal(ibanValid('DE89370400440532013000X'), false, 'wrong length');
    assert.equal(ibanValid('US89370400440532013000'), false, 'no IBAN country');
  });

  it('SSA ranges, card networks, IPv6 syntax, JWT headers', () => {
    assert.equal(ssnValid('123', '45', '6789'), true);
    for (const [a, g, s] of [['000', '12', '3456'], ['666', '12', '3456'], ['912', '12', '3456'], ['123', '00', '4567'], ['123', '45', '0000'], ['078', '05', '1120']]) {
      assert.equal(ssnValid(a as string, g as string, s as string), false, `${a}-${g}-${s}`);
    }
    assert.equal(cardBrand('4111111111111111'), 'visa');
    assert.equal(cardBrand('411111111111111'), undefined, 'no 15-digit Visa');
    assert.equal(cardBrand('378282246310005'), 'amex');
    assert.equal(cardBrand('2223003122003222'), 'mastercard');
    assert.equal(cardBrand('9111111111111111'), undefined);
    for (const ok of ['::1', '2001:db8::1', '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1', '2001:db8:1::']) assert.equal(ipv6Valid(ok), true, ok);
    for (const bad of ['12:30:45', 'a::b', '1::2::3', '2001:db8:12345::1', '1:2:3:4:5:6:7:8:9', '::']) assert.equal(ipv6Valid(bad), false, bad);
    assert.equal(jwtHeaderValid(Buffer.from('{"alg":"HS256"}').toString('base64url')), true);
    assert.equal(jwtHeaderValid(Buffer.from('{"typ":"JWT"}').toString('base64url')), false);
    assert.equal(jwtHeaderValid('%%%'), false);
  });

  it('placeholders and entropy', () => {
    for (const value of ['YOUR_API_KEY', '<token>', '${TOKEN}', '$TOKEN', 'process.env.API_KEY', "os.environ['X']", 'xxxxxxxxxxxx', '********', 'changeme', '%(password)s', 'example-key']) {
      assert.equal(looksLikePlaceholder(value), true, value);
    }
    for (const value of ['q^qr5TZ3c@5TYQW8', 'ya29.a0AfH6SMBx7fake1234', 'hunter2hunter2']) assert.equal(looksLikePlaceholder(value), false, value);
    assert.equal(shannonEntropy('aaaa'), 0);
    assert.ok(shannonEntropy('abcd') === 2);
  });
});

describe('entity rules', () => {
  it('phone: formats by country, context for bare numbers, no dates or IDs', () => {
    assert.deepEqual(found('call +1 (415) 555-2671 or 020 7946 0958', 'phone'), ['phone/intl:+1 (415) 555-2671', 'phone/national:020 7946 0958']);
    assert.deepEqual(found('Telefon 030123456789', 'phone'), ['phone/context:030123456789']);
    assert.deepEqual(found('number 030123456789 in the list', 'phone'), []);
    assert.deepEqual(found('Order #415-555-2671, due 2024-01-15, v1.2.3', 'phone'), []);
    assert.deepEqual(found('On 12 June call 415-555-2671', 'phone'), ['phone/us:415-555-2671']);
  });

  it('ssn: dashed alone, other forms only after an SSN word', () => {
    assert.deepEqual(found('my SSN is 123-45-6789'), ['ssn:123-45-6789']);
    assert.deepEqual(found('ssn 123 45 6789 and 123456789'), ['ssn:123 45 6789', 'ssn:123456789']);
    assert.deepEqual(found('code 123 45 6789 and 123456789', 'ssn'), []);
    assert.deepEqual(found('part 123-45-6789', 'ssn'), []);
  });

  it('cards: Luhn, network, consistent grouping, longest group-aligned span', () => {
    assert.deepEqual(found('4111 1111 1111 1111 12/29'), ['payment_card/visa:4111 1111 1111 1111']);
    assert.deepEqual(found('4111-1111 1111-1111 and 4111 1111 1111 1112', 'payment_card'), []);
  });

  it('ip: version words and leading zeros are not addresses', () => {
    assert.deepEqual(found('from 10.0.0.1 (version 1.2.3.4, 01.02.03.04) via fe80::1'), ['ip_address/v4:10.0.0.1', 'ip_address/v6:fe80::1']);
  });

  it('secrets: AWS secret needs a key id or label before it; documentation examples count', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    assert.deepEqual(found(`random ${secret}`, 'secret'), []);
    assert.deepEqual(found(`aws_secret_access_key=${secret}`, 'secret'), [`secret/aws_secret_access_key:${secret}`]);
    assert.deepEqual(found(`${['AK', 'IAIOSFODNN7EXAMPLE'].join('')} ${secret}`, 'secret'), [
      `secret/aws_access_key_id:${['AK', 'IAIOSFODNN7EXAMPLE'].join('')}`,
      `secret/aws_secret_access_key:${secret}`,
    ]);
  });

  it('secrets: a token in a URL wins over the longer e-mail-like span around it', () => {
    const token = ['gh', 'p_', 'v4MSRP0LP7PY1nWk7PpIvjByGLy2F8VolVWc'].join('');
    assert.deepEqual(found(`https://${token}@github.com/org/repo`), [`secret/github_token:${token}`]);
  });

  it('private key blocks: END line, or the key-like lines, settled only when decided', () => {
    const header = ['-----BEGIN', ' RSA PRIVATE KEY-----'].join('');
    assert.deepEqual(privateKeyBlock(`${header}\nAAAA\nBBBB`, 0, header.length), { end: header.length + 10, settled: false, capped: false });
    assert.deepEqual(privateKeyBlock(`${header}\nAAAA\nnot key\n`, 0, header.length), { end: header.length + 5, settled: true, capped: false });
    assert.equal(privateKeyBlock(`${header}\nAAAA\nnot key`, 0, header.length).settled, false, 'the last line may still change');
  });
});

describe('createDetector', () => {
  it('runs only the chosen built-ins', () => {
    const emailOnly = createDetector({ entities: ['email'] });
    assert.deepEqual(emailOnly.detect('a.b@example.com 123-45-6789').map((f) => f.type), ['email']);
  });

  it('custom entities: validators, flags, maxLength, compiled once', () => {
    const custom = createDetector({
      entities: [],
      custom: [
        { name: 'employee_id', pattern: 'EMP-\\d{6}', flags: 'i' },
        { name: 'loyalty_card', pattern: '\\b\\d{16}\\b', validator: 'luhn' },
        { name: 'account', pattern: '\\b[A-Z]{2}\\d{2}[A-Z0-9]{10,30}\\b', validator: 'iban' },
        { name: 'short', pattern: '[a-z]+', maxLength: 3 },
      ],
    });
    const text = 'emp-123456 4111111111111111 4111111111111112 DE89370400440532013000 DE89370400440532013001 ab abcd';
    assert.deepEqual(
      custom.detect(text).map((f) => `${f.type}:${text.slice(f.sourceStart, f.sourceEnd)}`),
      ['employee_id:emp-123456', 'loyalty_card:4111111111111111', 'account:DE89370400440532013000', 'short:ab'],
    );
    assert.equal(custom.customMaxLength, 64);
    assert.throws(() => createDetector({ custom: [{ name: 'x', pattern: '(' }] }));
    assert.throws(() => createDetector({ custom: [{ name: 'x', pattern: 'a', flags: 'y' }] }), /y flag/);
  });

  it('reports offsets in the original text after normalization', () => {
    const text = 'mail: j\u200bo\u0441n\uff20example.com!';
    const [finding] = detector.detect(text) as [Finding];
    assert.equal(text.slice(finding.sourceStart, finding.sourceEnd), 'j\u200bo\u0441n\uff20example.com');
    assert.equal(finding.end - finding.start, 'jocn@example.com'.length);
  });

  it('resolves overlaps deterministically: secrets, then longest, then type priority', () => {
    const resolved = resolveOverlaps([
      { type: 'phone', start: 0, end: 10 },
      { type: 'ssn', start: 0, end: 10 },
      { type: 'email', start: 5, end: 30 },
      { type: 'secret', subtype: 'generic_secret', start: 20, end: 24 },
      { type: 'secret', subtype: 'jwt', start: 20, end: 24 },
    ]);
    assert.deepEqual(resolved, [
      { type: 'ssn', start: 0, end: 10 },
      { type: 'secret', subtype: 'jwt', start: 20, end: 24 },
    ]);
  });
});
