import { unwatchFile, watch, watchFile, type FSWatcher, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** How often the file's metadata is polled, as a backstop to file events. */
const POLL_MS = 2000;

/**
 * Calls `onChange` once things settle (`debounceMs` after the last event) when the file at `path`
 * may have changed.
 *
 * It watches the file itself, not its directory: a directory watch wakes the process for every
 * write to any file beside the config, and the ledger's outbox and the SQLite store often live
 * there (measured: about four wake-ups a request, each an event-loop turn and two reads). Editors
 * save by writing a new file and renaming it over the old one; the old file's watch then reports
 * a rename and the path is watched again, now the new file. While the file is missing, its
 * directory is watched until it comes back. A slow metadata poll (which follows symlinks) catches
 * what events miss: a symlink swapped in another directory, as Kubernetes does with mounted
 * ConfigMaps, or network filesystems. Callers should skip content they have already seen (one
 * save can give several events). Returns a function that stops watching.
 */
export function watchConfigFile(path: string, onChange: () => void, debounceMs = 200, pollMs = POLL_MS): () => void {
  const file = resolve(path);
  const name = basename(file);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  let watcher: FSWatcher | undefined;
  const unwatch = () => {
    watcher?.close();
    watcher = undefined;
  };
  const watchFileItself = () => {
    unwatch();
    if (stopped) return;
    try {
      watcher = watch(file, { persistent: false }, (event) => {
        schedule();
        // Replaced or removed: this watch follows the old file, so take up the path again.
        if (event === 'rename') watchFileItself();
      });
    } catch {
      watchDirectoryUntilBack();
      return;
    }
    watcher.on('error', unwatch);
  };
  const watchDirectoryUntilBack = () => {
    try {
      watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed !== null && changed !== name) return;
        schedule();
        watchFileItself();
      });
    } catch {
      // E.g. the directory is gone too: the poll below notices the file coming back.
      watcher = undefined;
      return;
    }
    watcher.on('error', unwatch);
  };
  watchFileItself();
  const poll = (now: Stats, before: Stats) => {
    if (now.mtimeMs === before.mtimeMs && now.ino === before.ino && now.size === before.size) return;
    schedule();
    // A new file at the path (or one back from missing): watch it rather than the old one.
    if (now.ino !== before.ino) watchFileItself();
  };
  watchFile(file, { persistent: false, interval: pollMs }, poll);
  return () => {
    stopped = true;
    clearTimeout(timer);
    unwatch();
    unwatchFile(file, poll);
  };
}
