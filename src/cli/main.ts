#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/issues.js';
import { ADMIN_OPTIONS, ADMIN_USAGE, isAdminCommand, runAdminCommand } from './admin-commands.js';
import { AUDIT_OPTIONS, AUDIT_USAGE, runAuditCommand } from './audit-command.js';

const USAGE = `Usage: breakerbox <command> [options]

Commands:
  start     --config <file> [--host <addr>] [--port <n>]   serve the gateway
  validate  --config <file>                                check a config; exit 1 on errors
  keys | teams | users | plans                             manage keys, teams, users, plans (below)
  audit     verify | list                                  check or read the tamper-evident audit log (below)
  usage     --config <file> | --url <url> [--by <dim>]     usage analytics tables (breakerbox usage --help)

Options:
  -c, --config <file>   YAML or JSON config (see docs/configuration.md)
  -h, --help            show this help

${ADMIN_USAGE}
${AUDIT_USAGE}
Examples:
  breakerbox keys create --config breakerbox.yaml --name ci --team finance
  BB_ADMIN_KEY=... breakerbox keys list --url http://127.0.0.1:8080
  breakerbox usage --config examples/quickstart.yaml --by model --from 7d
`;

async function main(argv: string[]): Promise<number> {
  // Its own flags (--by, --from, ...): parsed by the command, not by the table below.
  if (argv[0] === 'usage') return (await import('./usage-command.js')).runUsageCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...ADMIN_OPTIONS,
      ...AUDIT_OPTIONS,
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 1 : 0;
  }
  if (isAdminCommand(command)) return runAdminCommand(positionals, values);
  if (command === 'audit') return runAuditCommand(positionals, values);
  const stray = Object.keys({ ...ADMIN_OPTIONS, ...AUDIT_OPTIONS }).find((option) => values[option as keyof typeof values] !== undefined);
  if (stray !== undefined) {
    process.stderr.write(`breakerbox ${command}: --${stray} is only for the admin commands (keys, teams, users, plans, audit)\n`);
    return 1;
  }
  if (values.config === undefined) {
    process.stderr.write(`breakerbox ${command}: --config <file> is required\n\n${USAGE}`);
    return 1;
  }
  switch (command) {
    // Loaded per command: the gateway's module graph is only needed to start it.
    case 'start':
      return (await import('./start.js')).runStart(values.config, { host: values.host, port: values.port });
    case 'validate':
      return (await import('./validate.js')).runValidate(values.config);
    default:
      process.stderr.write(`breakerbox: unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`breakerbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
