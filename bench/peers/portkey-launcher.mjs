#!/usr/bin/env node
// Starts Portkey's open-source gateway (@portkey-ai/gateway) bound to loopback only.
//
// Usage: node portkey-launcher.mjs <path to the gateway's build/start-server.js> --port=N [--headless]
//        [--exit-on-stdin-close]
//
// The published gateway is one bundled file that builds its Hono app without exporting it and, at
// top level, calls `serve({ fetch, port })` from '@hono/node-server' with no hostname, so Node
// listens on every interface. This launcher registers a module-resolution hook that hands that
// one import (the gateway bundle's '@hono/node-server') a thin wrapper module: everything is
// re-exported unchanged except `serve`, which gets `hostname: '127.0.0.1'` forced. The wrapper
// also checks the bound address once listening and exits the process if it is not loopback, and
// the launcher exits if the wrapper was never used (e.g. a future bundle changed how it serves).
// Remaining arguments (--port=N, --headless) are left in process.argv for the gateway to parse.

import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const LOOPBACK = '127.0.0.1';
const MARK = '__breakerboxPortkeyLoopbackServe';

const entryArg = process.argv[2];
if (!entryArg || entryArg.startsWith('--')) {
  console.error('portkey-launcher: first argument must be the path of the gateway entry script');
  process.exit(64);
}
const entryUrl = pathToFileURL(path.resolve(entryArg)).href;
// The gateway reads its flags from process.argv.slice(2); drop the entry path from there.
process.argv.splice(2, 1);

if (process.argv.includes('--exit-on-stdin-close')) {
  // The parent holds our stdin open; if it dies without stopping us, do not linger.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

// The hook module runs on Node's loader thread; it is small enough to ship as a data: URL.
const hooks = `
let entryUrl, hostname, mark;
export function initialize(data) { entryUrl = data.entryUrl; hostname = data.hostname; mark = data.mark; }
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (specifier !== '@hono/node-server' || context.parentURL !== entryUrl) return resolved;
  const real = JSON.stringify(resolved.url);
  const host = JSON.stringify(hostname);
  const source = [
    'import * as real from ' + real + ';',
    'export * from ' + real + ';',
    'export function serve(options, listener) {',
    '  globalThis[' + JSON.stringify(mark) + '] = true;',
    '  const server = real.serve({ ...options, hostname: ' + host + ' }, listener);',
    '  server.once("listening", () => {',
    '    const a = server.address();',
    '    if (!a || typeof a === "string" || a.address !== ' + host + ') {',
    '      console.error("portkey-launcher: gateway is not bound to loopback only: " + JSON.stringify(a));',
    '      process.exit(70);',
    '    }',
    '    console.error("portkey-launcher: listening on " + a.address + ":" + a.port);',
    '  });',
    '  return server;',
    '}',
  ].join('\\n');
  return { url: 'data:text/javascript,' + encodeURIComponent(source), format: 'module', shortCircuit: true };
}
`;

register('data:text/javascript,' + encodeURIComponent(hooks), {
  data: { entryUrl, hostname: LOOPBACK, mark: MARK },
});

// The gateway starts serving during its top-level evaluation (then shows a one-second banner).
await import(entryUrl);

if (globalThis[MARK] !== true) {
  console.error('portkey-launcher: the gateway never called serve() from @hono/node-server; refusing to run');
  process.exit(70);
}
