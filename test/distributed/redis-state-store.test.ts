import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { openStateStore, type StateChange } from '../../src/state/index.js';
import { MAX_BATCH, RedisStateStore } from '../../src/state/redis/redis-state-store.js';
import { hashTagOf, slotPrefix } from '../../src/state/redis/scripts.js';
import { ResilientStateStore } from '../../src/state/resilient-state-store.js';
import { describeStateStoreContract } from '../../src/state/state-store.contract.js';
import { StateUnavailableError, type ReserveItem, type StateStore } from '../../src/state/state-store.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const url = process.env.REDIS_URL;
const skip = url ? false : 'REDIS_URL is not set (e.g. redis://127.0.0.1:6379); skipping Redis state store tests';
if (!url) console.log(skip);

const HOUR = 3_600_000;
const TIMEOUT = 200;
/** Scheduling slack on a shared 2-core machine; a hang would take seconds. */
const SLACK = 150;
const runPrefix = `bbtest:${randomBytes(6).toString('hex')}:{limits}:`;

function open(prefix = runPrefix, target = url ?? ''): Promise<RedisStateStore> {
  const store = new RedisStateStore({ url: target, prefix, commandTimeoutMs: TIMEOUT });
  return store.connect().then(() => store);
}

/** Deletes this run's keys only (the Redis is shared: never FLUSHALL). */
async function deleteRunKeys(): Promise<void> {
  if (!url) return;
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${runPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

async function runKeys(): Promise<string[]> {
  const client = new Redis(url ?? '');
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${runPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  } finally {
    client.disconnect();
  }
}

/** CRC16-CCITT (XMODEM), the hash Redis Cluster uses for key slots. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key) ?? key)) % 16384;
}

function rate(store: StateStore, key: string, limit: number, amount = 1): ReserveItem {
  return { key, limit, amount, expiresAtMs: store.now() + HOUR, kind: 'rate' };
}

function budget(store: StateStore, key: string, limit: number, amount = 1): ReserveItem {
  return { key, limit, amount, expiresAtMs: store.now() + HOUR, kind: 'budget' };
}

/** Runs a call and returns how long it took, so a test can show nothing waits past the deadline. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const start = performance.now();
  try {
    const value = await call();
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

if (url) {
  describeStateStoreContract('redis', () => open(), deleteRunKeys);
}

describe('redis state store, several instances and the wire', { skip }, () => {
  const stores: StateStore[] = [];
  after(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await deleteRunKeys();
  });
  async function track<T extends StateStore>(store: Promise<T>): Promise<T> {
    const opened = await store;
    stores.push(opened);
    return opened;
  }

  it('two clients on one prefix share counters, and a limit holds across both', async () => {
    const [a, b] = await Promise.all([track(open()), track(open())]);
    const key = `shared:${randomUUID()}`;
    const id = randomUUID();
    await a.reserve(id, [rate(a, key, 10, 4)], 60_000);
    assert.deepEqual(await b.read([key]), [{ spent: 0, reserved: 4 }]);
    await b.settle(id, [{ key, amount: 2, expiresAtMs: b.now() + HOUR }]);
    assert.deepEqual(await a.read([key]), [{ spent: 2, reserved: 0 }]);
    const both = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).reserve(randomUUID(), [rate(a, key, 10)], 60_000)));
    assert.equal(both.filter((r) => r.ok).length, 8);
  });

  it('every key of the store hashes to one cluster slot', async () => {
    assert.equal(crc16(Buffer.from('123456789')), 0x31c3);
    assert.equal(keySlot('foo'), 12182);
    assert.equal(keySlot('{user1000}.following'), keySlot('{user1000}.followers'));
    assert.equal(slotPrefix('bb'), 'bb:{limits}:');
    assert.equal(slotPrefix('t:{a}:'), 't:{a}:');
    assert.throws(() => slotPrefix('x{}'), RangeError);
    const store = await track(open());
    const id = randomUUID();
    await store.reserve(id, [rate(store, 'rpm:{odd}:k1', 10), rate(store, 'tpm:k1', 1000, 50)], 60_000);
    await store.settle(id, [{ key: 'usd:k1', amount: 0.5, expiresAtMs: store.now() + HOUR }]);
    await store.reserve(randomUUID(), [rate(store, 'conc:k1', 10)], 60_000);
    const keys = await runKeys();
    assert.ok(keys.length >= 6, `expected keys under ${runPrefix}, got ${keys.length}`);
    const slots = new Set(keys.map(keySlot));
    assert.deepEqual([...slots], [keySlot(runPrefix)]);
  });

  it('now() is within 50 ms of Redis TIME', async () => {
    const store = await track(open());
    const client = new Redis(url ?? '');
    try {
      for (let i = 0; i < 3; i += 1) {
        const before = store.now();
        const [seconds, micros] = (await client.time()).map(Number);
        const after = store.now();
        const server = (seconds ?? 0) * 1000 + (micros ?? 0) / 1000;
        assert.ok(server >= before - 50 && server <= after + 50, `redis ${server} vs now() ${before}..${after}`);
      }
    } finally {
      client.disconnect();
    }
  });

  it('an unreachable Redis rejects with StateUnavailableError within the timeout', async () => {
    const store = await track(Promise.resolve(new RedisStateStore({ url: 'redis://127.0.0.1:6390', commandTimeoutMs: TIMEOUT })));
    const calls: Array<() => Promise<unknown>> = [() => store.reserve('x', [rate(store, 'k', 1)], 1000), () => store.read(['k']), () => store.settle('x', [])];
    for (const call of calls) {
      const result = await timed(call);
      assert.ok(result.error instanceof StateUnavailableError, String(result.error));
      assert.ok(result.ms < TIMEOUT + SLACK, `took ${result.ms} ms`);
    }
    const connect = await timed(() => store.connect());
    assert.ok(connect.error instanceof StateUnavailableError);
  });

  it('a server that accepts but never answers cannot hang a call', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const store = new RedisStateStore({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: TIMEOUT, connectTimeoutMs: 300 });
    try {
      const connect = await timed(() => store.connect());
      assert.ok(connect.error instanceof StateUnavailableError);
      assert.ok(connect.ms < 300 + SLACK, `connect took ${connect.ms} ms`);
      const reserve = await timed(() => store.reserve('x', [rate(store, 'k', 1)], 1000));
      assert.ok(reserve.error instanceof StateUnavailableError);
      assert.ok(reserve.ms < TIMEOUT + SLACK, `reserve took ${reserve.ms} ms`);
    } finally {
      await store.close();
      silent.close();
    }
  });

  it('the calls of one turn travel as one script call, apply in order and each get their own answer', async () => {
    const proxy = TcpProxy.to(new URL(url ?? ''), 6379);
    await proxy.start();
    let scriptCalls = 0;
    // ioredis names the command in lower case: eval the first time on a connection, evalsha after.
    proxy.onClientData = (chunk) => (scriptCalls += chunk.toString('latin1').match(/\r\n(?:evalsha|eval)\r\n/g)?.length ?? 0);
    const store = new RedisStateStore({ url: `redis://127.0.0.1:${proxy.port}`, prefix: runPrefix, commandTimeoutMs: TIMEOUT });
    try {
      await store.connect();
      const key = `conc:${randomUUID()}`;
      const first = [randomUUID(), randomUUID(), randomUUID()];
      for (const id of first) assert.equal((await store.reserve(id, [rate(store, key, 3)], 60_000)).ok, true);
      assert.equal(scriptCalls, 3);

      // One turn: a settle that frees a slot, then four reserves against a limit of 3.
      scriptCalls = 0;
      const settled = store.settle(first[0] as string, [{ key, amount: 0, expiresAtMs: store.now() + HOUR }]);
      const reserves = Array.from({ length: 4 }, () => store.reserve(randomUUID(), [rate(store, key, 3)], 60_000));
      await settled;
      const results = await Promise.all(reserves);
      assert.deepEqual(results, [{ ok: true, used: [3] }, { ok: false, index: 0, used: 3 }, { ok: false, index: 0, used: 3 }, { ok: false, index: 0, used: 3 }]);
      assert.equal(scriptCalls, 1);
      // A second settle of the same id in one batch with others is still a no-op.
      scriptCalls = 0;
      await Promise.all([store.settle(first[0] as string, [{ key: `${key}:spent`, amount: 5, expiresAtMs: store.now() + HOUR }]), store.settle(first[1] as string, [])]);
      assert.equal(scriptCalls, 1);
      assert.deepEqual(await store.read([key, `${key}:spent`]), [{ spent: 0, reserved: 2 }, { spent: 0, reserved: 0 }]);

      // A read sees the calls asked for before it in the same turn.
      const later = `tpm:${randomUUID()}`;
      const pending = store.reserve(randomUUID(), [rate(store, later, 100, 30)], 60_000);
      assert.deepEqual(await store.read([later]), [{ spent: 0, reserved: 30 }]);
      assert.equal((await pending).ok, true);

      // More than a batch holds in one turn: split, and every call still answered.
      scriptCalls = 0;
      const many = `rpm:${randomUUID()}`;
      const count = MAX_BATCH + 8;
      const answers = await Promise.all(Array.from({ length: count }, () => store.reserve(randomUUID(), [rate(store, many, count - 5)], 60_000)));
      assert.equal(scriptCalls, 2);
      assert.equal(answers.filter((answer) => answer.ok).length, count - 5);
      assert.deepEqual(answers.slice(-5).map((answer) => answer.ok), [false, false, false, false, false]);

      // A batch with no answer fails every call in it, within the deadline.
      proxy.blackhole = true;
      const stuck = await timed(() => Promise.allSettled([store.reserve(randomUUID(), [rate(store, key, 10)], 60_000), store.settle(randomUUID(), [])]));
      assert.ok(stuck.ms < TIMEOUT + SLACK, `took ${stuck.ms} ms`);
      for (const outcome of stuck.value ?? []) {
        assert.equal(outcome.status, 'rejected');
        assert.ok(outcome.reason instanceof StateUnavailableError, String(outcome.reason));
        assert.match(outcome.reason.message, /redis reserve and settle got no answer within 200 ms/);
      }
    } finally {
      await store.close();
      await proxy.stop();
    }
  });

  it('resilient store with Redis down: rate limits use this instance share, budgets fail closed', async () => {
    const changes: StateChange[] = [];
    const store = await track(openStateStore({ backend: 'redis', url: 'redis://127.0.0.1:6390', commandTimeoutMs: TIMEOUT, instances: 3, onStateChange: (change) => changes.push(change) }));
    assert.ok(store instanceof ResilientStateStore);
    assert.equal(store.degraded, true);
    assert.deepEqual(changes.map((c) => c.degraded), [true]);
    const key = `rpm:${randomUUID()}`;
    // limit 10 over 3 instances: 3 locally.
    const results = [];
    for (let i = 0; i < 5; i += 1) {
      const call = await timed(() => store.reserve(randomUUID(), [rate(store, key, 10)], 60_000));
      assert.ok(call.ms < TIMEOUT + SLACK, `reserve took ${call.ms} ms`);
      results.push(call.value?.ok);
    }
    assert.deepEqual(results, [true, true, true, false, false]);
    // At least one of anything, even when the share rounds to 0.
    assert.equal((await store.reserve(randomUUID(), [rate(store, `rps:${randomUUID()}`, 2)], 60_000)).ok, true);
    const refused = await timed(() => store.reserve(randomUUID(), [rate(store, `rpm:${randomUUID()}`, 10), budget(store, `usd:${randomUUID()}`, 5, 0.1)], 60_000));
    assert.ok(refused.error instanceof StateUnavailableError, String(refused.error));
    assert.ok(refused.ms < TIMEOUT + SLACK);
  });

  it('resilient store rides out an outage through a proxy and recovers on its own', async () => {
    const proxy = TcpProxy.to(new URL(url ?? ''), 6379);
    await proxy.start();
    const changes: boolean[] = [];
    const opened = await track(openStateStore({ backend: 'redis', url: `redis://127.0.0.1:${proxy.port}`, prefix: runPrefix, commandTimeoutMs: TIMEOUT, instances: 2, onStateChange: (c) => changes.push(c.degraded) }));
    const observer = await track(open());
    assert.ok(opened instanceof ResilientStateStore);
    const store: ResilientStateStore = opened;
    try {
      assert.equal(store.degraded, false);
      const key = `tpm:${randomUUID()}`;
      const early = randomUUID();
      assert.equal((await store.reserve(early, [rate(store, key, 100, 10)], 60_000)).ok, true);
      assert.deepEqual(await observer.read([key]), [{ spent: 0, reserved: 10 }]);

      // Black hole: the connection is open but nothing answers.
      proxy.blackhole = true;
      const hung = await timed(() => store.reserve(randomUUID(), [rate(store, key, 100)], 60_000));
      assert.ok(hung.ms < TIMEOUT + SLACK, `reserve took ${hung.ms} ms`);
      assert.equal(hung.value?.ok, true);
      assert.equal(store.degraded, true);
      // A settle of a shared reservation waits in the queue.
      const settle = await timed(() => store.settle(early, [{ key, amount: 7, expiresAtMs: store.now() + HOUR }]));
      assert.ok(settle.ms < TIMEOUT + SLACK);
      assert.equal(store.queuedSettles, 1);

      // Refused: the proxy is gone. Calls keep answering fast, probing Redis at most once a second.
      await proxy.stop();
      proxy.blackhole = false;
      const outageEnd = Date.now() + 1_500;
      while (Date.now() < outageEnd) {
        const call = await timed(() => store.reserve(randomUUID(), [rate(store, `rpm:${randomUUID()}`, 100)], 60_000));
        assert.ok(call.ms < TIMEOUT + SLACK, `reserve took ${call.ms} ms during the outage`);
        assert.equal(call.value?.ok, true);
        const money = await timed(() => store.reserve(randomUUID(), [budget(store, `usd:${randomUUID()}`, 5)], 60_000));
        assert.ok(money.error instanceof StateUnavailableError);
        assert.ok(money.ms < TIMEOUT + SLACK, `budget reserve took ${money.ms} ms during the outage`);
        await sleep(50);
      }
      assert.equal(store.degraded, true);

      await proxy.start();
      const recoverBy = Date.now() + 8_000;
      while (store.degraded && Date.now() < recoverBy) {
        const call = await timed(() => store.reserve(randomUUID(), [rate(store, `rpm:${randomUUID()}`, 100)], 60_000));
        assert.ok(call.ms < TIMEOUT + SLACK, `reserve took ${call.ms} ms while recovering`);
        await sleep(50);
      }
      assert.equal(store.degraded, false, 'the store did not recover within 8 s');
      // Served by Redis again, and the queued settle was replayed there.
      const id = randomUUID();
      assert.deepEqual(await store.reserve(id, [budget(store, key, 100, 5)], 60_000), { ok: true, used: [12] });
      for (let i = 0; i < 50 && store.queuedSettles > 0; i += 1) await sleep(20);
      assert.equal(store.queuedSettles, 0);
      assert.equal(store.droppedSettles, 0);
      assert.deepEqual(await observer.read([key]), [{ spent: 7, reserved: 5 }]);
      assert.deepEqual(changes, [true, false]);
    } finally {
      await store.close();
      await proxy.stop();
    }
  });
});
