import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { writeEventStream } from './sse-writer.js';

/** One loopback server whose handler streams `source()` and records how often `done` was called. */
async function withStream(source: () => AsyncIterable<string>, client: (port: number) => Promise<void>): Promise<number> {
  let doneCalls = 0;
  let resolveDone!: () => void;
  const ended = new Promise<void>((resolve) => (resolveDone = resolve));
  const server = createServer((_request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    writeEventStream(response, source(), () => {
      doneCalls += 1;
      resolveDone();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await client((server.address() as AddressInfo).port);
    await ended;
    await new Promise((resolve) => setTimeout(resolve, 20)); // a second call would land here
    return doneCalls;
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function get(port: number): Promise<{ body: string; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, path: '/' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ body, aborted: false }));
      response.on('error', () => resolve({ body, aborted: true }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

test('writes every chunk, ends the response, and calls done once', async () => {
  let client: { body: string; aborted: boolean } | undefined;
  const calls = await withStream(
    async function* () {
      yield 'data: 1\n\n';
      yield 'data: 2\n\n';
    },
    async (port) => {
      client = await get(port);
    },
  );
  assert.equal(calls, 1);
  assert.deepEqual(client, { body: 'data: 1\n\ndata: 2\n\n', aborted: false });
});

test('a source that fails destroys the response and calls done once', async () => {
  let client: { body: string; aborted: boolean } | undefined;
  const calls = await withStream(
    async function* () {
      yield 'data: 1\n\n';
      throw new Error('upstream broke');
    },
    async (port) => {
      client = await get(port);
    },
  );
  assert.equal(calls, 1);
  assert.equal(client?.aborted, true);
});

test('a source that cannot even start an iterator destroys the response and calls done once', async () => {
  const broken = { [Symbol.asyncIterator]: () => { throw new Error('no iterator'); } } as unknown as AsyncIterable<string>;
  const calls = await withStream(() => broken, (port) => get(port).then(() => undefined, () => undefined));
  assert.equal(calls, 1);
});

test('a client that goes away stops the source (it is returned) and done is called once', async () => {
  let returned = false;
  const calls = await withStream(
    () => ({
      [Symbol.asyncIterator]: () => {
        let sent = 0;
        return {
          next: async () => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            sent += 1;
            return { done: false, value: `data: ${sent}\n\n` };
          },
          return: async () => {
            returned = true;
            return { done: true as const, value: undefined };
          },
        };
      },
    }),
    (port) =>
      new Promise<void>((resolve) => {
        const outgoing = httpRequest({ host: '127.0.0.1', port, path: '/' }, (response) => {
          response.once('data', () => {
            outgoing.destroy();
            resolve();
          });
        });
        outgoing.on('error', () => undefined);
        outgoing.end();
      }),
  );
  assert.equal(calls, 1);
  assert.equal(returned, true);
});
