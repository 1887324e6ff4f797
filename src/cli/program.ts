import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { configCommand } from './commands/config.js';
import { demoReceiverCommand } from './commands/demoReceiver.js';
import { publishCommand } from './commands/publish.js';
import { readCommand } from './commands/read.js';
import { serveCommand } from './commands/serve.js';
import { streamsCommand } from './commands/streams.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The `herald` command line: one sub-command per file in ./commands. */
export function buildProgram(): Command {
  const program = new Command('herald')
    .description('Herald: an event hub with one durable, ordered log and every common protocol in and out')
    .version(version(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    // Throw instead of exiting, so main() sets the exit code (2 for usage errors); inherited by
    // the sub-commands added below.
    .exitOverride()
    .configureHelp({ showGlobalOptions: true });
  serveCommand(program);
  publishCommand(program);
  readCommand(program);
  streamsCommand(program);
  configCommand(program);
  demoReceiverCommand(program);
  program.addHelpText('after', '\nEnvironment: HERALD_URL and HERALD_TOKEN for the client commands, HERALD_CONFIG and HERALD_<OPTION> for serve/config.');
  return program;
}
