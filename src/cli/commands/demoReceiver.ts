import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';

/** `herald demo-receiver <port>`: go-sep's demo endpoint, for trying go-sep queues by hand. */
export function demoReceiverCommand(program: Command): void {
  program
    .command('demo-receiver')
    .description("go-sep's demo receiver: answers every request 200 \"Thanks!\" and logs it (content, X-Wsq-Id, length)")
    .argument('<port>', 'TCP port to listen on')
    .option('--host <host>', 'address to bind (go-sep bound every interface)', '127.0.0.1')
    .action(async (portText: string, flags: { host: string }) => {
      const port = Number(portText);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`port must be a whole number from 0 to 65535, got ${JSON.stringify(portText)}`, EXIT_USAGE);
      const [{ startDemoReceiver }, { createLogger }] = await Promise.all([import('../../protocols/gosep/demoReceiver.js'), import('../../observability/logger.js')]);
      const log = createLogger().child({ component: 'demo-receiver' });
      const { server, port: bound } = await startDemoReceiver(port, flags.host, log);
      log.info({ url: `http://${flags.host}:${bound}` }, `demo receiver listening on http://${flags.host}:${bound}`);
      const stop = (): void => void server.close(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
