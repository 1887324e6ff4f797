#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
import { buildProgram } from './program.js';

/** The `herald` executable: runs a command and turns its failure into a message and exit code. */
async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the help, version or error already.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    // By name: importing ConfigError would load the config modules for every command.
    if (err instanceof Error && err.name === 'ConfigError') {
      process.stderr.write(err.message + '\n');
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (err instanceof CliError) {
      process.stderr.write(`herald: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`herald: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

await main();
