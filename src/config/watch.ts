import { unwatchFile, watch, watchFile, type FSWatcher, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** How often the file's metadata is polled, as a backstop to directory events. */
const POLL_MS = 2000;

/**
 * Calls `onChange` once things settle (`debounceMs` after the last event) when the file at `path`
 * may have changed. It watches the file's directory filtered to its name, not the file itself:
 * editors save by writing a new file and renaming it over the old one, after which a watch on the
 * old file sees nothing more. A slow metadata poll (which follows symlinks) catches what directory
 * events miss: a symlink swapped in another directory, as Kubernetes does with mounted ConfigMaps,
 * or network filesystems. Callers should skip content they have already seen (one save can give
 * several events). Returns a function that stops watching.
 */
export function watchConfigFile(path: string, onChange: () => void, debounceMs = 200): () => void {
  const file = resolve(path);
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name) schedule();
    });
    // E.g. the directory was removed: the poll below still notices the file coming back.
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  const poll = (now: Stats, before: Stats) => {
    if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) schedule();
  };
  watchFile(file, { persistent: false, interval: POLL_MS }, poll);
  return () => {
    clearTimeout(timer);
    watcher?.close();
    unwatchFile(file, poll);
  };
}
