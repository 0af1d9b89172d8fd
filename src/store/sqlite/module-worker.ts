import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread on the module at `url`. Run from the TypeScript sources (tests, `tsx`), a worker
 * does not inherit the parent's loader hooks on Node 20, so the module is loaded through tsx's
 * API there; the built `.js` starts directly.
 */
export function moduleWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/** The URL of a sibling module `name` with the caller's own extension (`.ts` from sources, `.js` built). */
export function siblingModule(callerUrl: string, name: string): URL {
  const extension = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, callerUrl);
}
