import type { Command } from 'commander';
import type { HeraldConfig } from '../../config/schema.js';
import { isHeraldError } from '../../core/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { RunningServer } from '../../server.js';
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE } from '../errors.js';
import { limitHeapGrowth } from '../heapGrowth.js';
import { addServerFlags, configOptionsFromFlags, type ServerFlags } from '../serverFlags.js';

/**
 * `herald serve`: load the config, start store, hub and listeners; on SIGINT/SIGTERM stop the
 * listeners (no new requests; in-flight ones finish), then close the hub (pending appends
 * commit, the store closes) and exit 0. A second signal during shutdown exits at once (130).
 * The server modules load only when the command runs, so the client commands start fast.
 */
export function serveCommand(program: Command): void {
  addServerFlags(
    program
      .command('serve')
      .description('run the hub: the store and every enabled listener (HTTP API), until SIGINT/SIGTERM')
      .addHelpText('after', '\nPrecedence: defaults < --config file < HERALD_* environment < flags. See docs/configuration.md.'),
  ).action(async (flags: ServerFlags) => {
    const [{ loadConfig }, { startServer }] = await Promise.all([import('../../config/load.js'), import('../../server.js')]);
    limitHeapGrowth();
    const warnings: string[] = [];
    const config = loadConfig({ ...configOptionsFromFlags(flags), env: process.env, onWarning: (w) => warnings.push(w) });
    const logger = await createServeLogger(config);
    for (const warning of warnings) logger.warn(warning);
    let server: RunningServer;
    try {
      server = await startServer(config, logger);
    } catch (err) {
      // A refused config (the loopback rule, a missing token variable) is a usage error, not a crash.
      const refused = isHeraldError(err) && err.code === 'invalid_config';
      logger.fatal(refused ? {} : { err }, `herald could not start: ${(err as Error).message}`);
      await new Promise<void>((resolve) => logger.flush(() => resolve()));
      throw new CliError((err as Error).message, refused ? EXIT_USAGE : EXIT_FAILURE);
    }
    handleShutdownSignals(server, logger);
  });
}

export async function createServeLogger(config: HeraldConfig): Promise<Logger> {
  const { createLogger } = await import('../../observability/logger.js');
  const pretty = config.log.pretty === 'auto' ? Boolean(process.stdout.isTTY) : config.log.pretty === 'true';
  return createLogger({ level: config.log.level, pretty });
}

/** Exits once the log lines written so far are out (pino writes stdout asynchronously). */
function exit(logger: Logger, code: number): void {
  const timer = setTimeout(() => process.exit(code), 500);
  logger.flush(() => {
    clearTimeout(timer);
    process.exit(code);
  });
}

function handleShutdownSignals(server: RunningServer, logger: Logger): void {
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn({ signal }, `received ${signal} again during shutdown: exiting now`);
      exit(logger, EXIT_INTERRUPTED);
      return;
    }
    shuttingDown = true;
    logger.info({ signal }, `received ${signal}: shutting down (send it again to exit at once)`);
    const started = performance.now();
    server.stop().then(
      () => {
        logger.info({ ms: Math.round(performance.now() - started) }, 'stopped');
        exit(logger, 0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(logger, EXIT_FAILURE);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
