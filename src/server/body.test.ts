import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { GatewayError } from '../core/errors.js';
import { readBodyWithLimit } from './body.js';

const LIMIT = 64 * 1024;

/** A loopback server that answers each request with the length and a digest of the body it read, or the error code. */
async function withEchoServer(run: (port: number) => Promise<void>): Promise<void> {
  const server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    // Ask once the request's own turn is over, as a handler behind a few awaits does.
    setImmediate(() => {
      readBodyWithLimit(incoming, LIMIT).then(
        (body) => response.end(`${body.length}:${body.toString('utf8').slice(0, 16)}:${body.toString('utf8').slice(-16)}`),
        (error: unknown) => {
          response.statusCode = 413;
          response.end(error instanceof GatewayError ? error.code : 'other');
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function expected(body: string): string {
  return `${Buffer.byteLength(body)}:${body.slice(0, 16)}:${body.slice(-16)}`;
}

test('bodies that came with their headers are read whole, and the keep-alive connection serves the next request', async () => {
  await withEchoServer(async (port) => {
    const agent = new Agent({ connections: 1 });
    try {
      for (const body of ['{"model":"m"}', '', 'x'.repeat(40_000), '{"café":"☕"}']) {
        const response = await request(`http://127.0.0.1:${port}/`, { method: 'POST', body, dispatcher: agent });
        assert.equal(await response.body.text(), expected(body));
      }
    } finally {
      await agent.close();
    }
  });
});

test('a body that trickles in after its headers is waited for', async () => {
  await withEchoServer(async (port) => {
    const body = '{"messages":[' + '"part",'.repeat(100) + '"end"]}';
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
    for (let at = 0; at < body.length; at += 100) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      socket.write(body.slice(at, at + 100));
    }
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.ok(answer.endsWith(expected(body)), answer);
  });
});

test('bodies over the limit are refused, declared or not', async () => {
  await withEchoServer(async (port) => {
    const big = 'y'.repeat(LIMIT + 1);
    const declared = await request(`http://127.0.0.1:${port}/`, { method: 'POST', body: big });
    assert.equal(declared.statusCode, 413);
    assert.equal(await declared.body.text(), 'BB_BODY_TOO_LARGE');
    // Chunked, so no Content-Length to refuse on: the read itself must stop.
    const chunked = await request(`http://127.0.0.1:${port}/`, { method: 'POST', body: Readable.from([big]) });
    assert.equal(chunked.statusCode, 413);
    assert.equal(await chunked.body.text(), 'BB_BODY_TOO_LARGE');
  });
});
