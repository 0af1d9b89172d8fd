import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRequestId, requestIdFrom } from './request-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit millisecond timestamp at the front of a version 7 UUID. */
const timeOf = (id: string) => Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);

test('new request ids are version 7 UUIDs carrying the time they were made', () => {
  const before = Date.now();
  const id = newRequestId();
  const after = Date.now();
  assert.match(id, UUID_V7);
  assert.ok(timeOf(id) >= before && timeOf(id) <= after, `${timeOf(id)} not in [${before}, ${after}]`);
  // RFC 9562's own example timestamp: 2022-02-22T19:22:22.000Z is 0x017F22E279B0.
  assert.equal(newRequestId(0x017f22e279b0).slice(0, 13), '017f22e2-79b0');
  assert.equal(newRequestId(0).slice(0, 13), '00000000-0000');
});

test('ids made in later milliseconds sort after earlier ones, and ids never repeat', () => {
  const ids = Array.from({ length: 2_000 }, (_, i) => newRequestId(1_800_000_000_000 + Math.floor(i / 10)));
  for (const id of ids) assert.match(id, UUID_V7);
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 10; i < ids.length; i += 10) assert.ok((ids[i - 1] as string) < (ids[i] as string), `${ids[i - 1]} !< ${ids[i]}`);
  // Within one millisecond the 74 random bits differ.
  const sameMs = new Set(Array.from({ length: 1_000 }, () => newRequestId(1_800_000_000_000)));
  assert.equal(sameMs.size, 1_000);
});

test("a client's well-formed x-request-id is kept; anything else gets a new id", () => {
  assert.equal(requestIdFrom('trace-abc.1:2'), 'trace-abc.1:2');
  assert.match(requestIdFrom(undefined), UUID_V7);
  assert.match(requestIdFrom(['a', 'b']), UUID_V7);
  assert.match(requestIdFrom('has space'), UUID_V7);
  assert.match(requestIdFrom('x'.repeat(129)), UUID_V7);
  assert.match(requestIdFrom(''), UUID_V7);
});
