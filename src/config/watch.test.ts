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

/** Does `act` and waits for the change it must cause. */
async function seen(watch: ReturnType<typeof watched>, act: () => Promise<unknown>): Promise<void> {
  const next = watch.nextChange();
  await act();
  await next;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 8));

describe('watchConfigFile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bb-watch-'));
  after(() => rm(dir, { recursive: true, force: true }));

  /** A config file `name` (holding `a: 1`) watched while `body` runs. */
  async function withWatched(name: string, body: (path: string, watch: ReturnType<typeof watched>) => Promise<void>): Promise<void> {
    const path = join(dir, name);
    await writeFile(path, 'a: 1\n');
    const watch = watched(path);
    try {
      await body(path, watch);
    } finally {
      watch.stop();
    }
  }

  it('sees a rewrite in place, a rename over the file, and a rewrite of the new file', () =>
    withWatched('edits.yaml', async (path, watch) => {
      await seen(watch, () => writeFile(path, 'a: 2\n'));
      await seen(watch, async () => {
        await writeFile(`${path}.tmp`, 'a: 3\n');
        await rename(`${path}.tmp`, path);
      });
      // The watch must follow the path to the file renamed over it.
      await seen(watch, () => writeFile(path, 'a: 4\n'));
    }));

  it('sees the file come back after it was removed', () =>
    withWatched('removed.yaml', async (path, watch) => {
      await seen(watch, () => rm(path));
      await seen(watch, () => writeFile(path, 'a: 2\n'));
      // And watches the new file itself from then on.
      await seen(watch, () => writeFile(path, 'a: 3\n'));
    }));

  it('ignores writes to other files in the directory, such as a store or outbox beside the config', () =>
    withWatched('quiet.yaml', async (_path, watch) => {
      for (let i = 0; i < 20; i += 1) await writeFile(join(dir, 'breakerbox.db'), `row ${i}\n`, { flag: 'a' });
      await settle();
      assert.equal(watch.changes, 0);
    }));

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
