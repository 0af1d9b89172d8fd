import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { watchConfigFile } from './watch.js';

const DEBOUNCE_MS = 20;
/** Long enough that every case below is seen through events, not through the metadata poll. */
const POLL_MS = 60_000;

/** Watches `path` and counts the (debounced) changes. */
function watched(path: string) {
  let changes = 0;
  let waiter: (() => void) | undefined;
  const stop = watchConfigFile(
    path,
    () => {
      changes += 1;
      waiter?.();
    },
    DEBOUNCE_MS,
    POLL_MS,
  );
  return {
    stop,
    get changes() {
      return changes;
    },
    /** Resolves at the next change; rejects after `ms`. */
    nextChange(ms = 2000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no change within ${ms} ms`)), ms);
        waiter = () => {
          clearTimeout(timer);
          waiter = undefined;
          resolve();
        };
      });
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 8));

describe('watchConfigFile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bb-watch-'));
  after(() => rm(dir, { recursive: true, force: true }));

  it('sees a rewrite in place, a rename over the file, and a rewrite of the new file', async () => {
    const path = join(dir, 'edits.yaml');
    await writeFile(path, 'a: 1\n');
    const watch = watched(path);
    try {
      let next = watch.nextChange();
      await writeFile(path, 'a: 2\n');
      await next;
      next = watch.nextChange();
      await writeFile(`${path}.tmp`, 'a: 3\n');
      await rename(`${path}.tmp`, path);
      await next;
      // The watch must follow the path to the file renamed over it.
      next = watch.nextChange();
      await writeFile(path, 'a: 4\n');
      await next;
    } finally {
      watch.stop();
    }
  });

  it('sees the file come back after it was removed', async () => {
    const path = join(dir, 'removed.yaml');
    await writeFile(path, 'a: 1\n');
    const watch = watched(path);
    try {
      let next = watch.nextChange();
      await rm(path);
      await next;
      next = watch.nextChange();
      await writeFile(path, 'a: 2\n');
      await next;
      // And watches the new file itself from then on.
      next = watch.nextChange();
      await writeFile(path, 'a: 3\n');
      await next;
    } finally {
      watch.stop();
    }
  });

  it('ignores writes to other files in the directory, such as a store or outbox beside the config', async () => {
    const path = join(dir, 'quiet.yaml');
    await writeFile(path, 'a: 1\n');
    const watch = watched(path);
    try {
      for (let i = 0; i < 20; i += 1) await writeFile(join(dir, 'breakerbox.db'), `row ${i}\n`, { flag: 'a' });
      await settle();
      assert.equal(watch.changes, 0);
    } finally {
      watch.stop();
    }
  });

  it('calls nothing after it is stopped', async () => {
    const path = join(dir, 'stopped.yaml');
    await writeFile(path, 'a: 1\n');
    const watch = watched(path);
    watch.stop();
    await writeFile(path, 'a: 2\n');
    await settle();
    assert.equal(watch.changes, 0);
  });
});
