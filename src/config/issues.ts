/** One problem in a config file, located by its key path. */
export interface ConfigIssue {
  path: ReadonlyArray<string | number>;
  message: string;
}

/** Thrown when a config cannot be used; `issues` lists every problem found, not just the first. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly source: string;

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(`${source}: ${issues.length} config error${issues.length === 1 ? '' : 's'}\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}

const PLAIN_KEY = /^[A-Za-z_][\w-]*$/;

/** `['models', 'fast', 'targets', 0, 'provider']` -> `models.fast.targets[0].provider`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(root)' : out;
}

export function formatIssue(issue: ConfigIssue): string {
  return `${formatPath(issue.path)}: ${issue.message}`;
}
