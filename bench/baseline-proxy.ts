/**
 * The physical-limit reference: a reverse proxy that only forwards. node:http in front, undici
 * behind, bodies buffered (the fastest Node shape measured here), SSE piped chunk by chunk.
 * Usage: baseline-proxy.ts <port> <upstream base url>. Prints `READY <url>`. Loopback only.
 */
import { createServer } from 'node:http';
import { Agent } from 'undici';

const port = Number(process.argv[2] ?? 0);
const upstream = new URL(process.argv[3] ?? 'http://127.0.0.1:9000');
const agent = new Agent({ connections: 20_000, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
    agent.request({ origin: upstream.origin, path: req.url ?? '/', method: 'POST', headers, body: Buffer.concat(parts) })
      .then(async (answer) => {
        const type = String(answer.headers['content-type'] ?? '');
        if (type.includes('text/event-stream')) {
          res.writeHead(answer.statusCode, { 'content-type': type, 'cache-control': 'no-cache' });
          res.flushHeaders();
          for await (const part of answer.body) if (!res.write(part)) await new Promise((resolve) => res.once('drain', resolve));
          res.end();
          return;
        }
        const body = Buffer.from(await answer.body.arrayBuffer());
        res.writeHead(answer.statusCode, { 'content-type': type, 'content-length': body.length });
        res.end(body);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
