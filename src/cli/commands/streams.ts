import type { Command } from 'commander';
import type { StreamInfo } from '../../store/types.js';
import { addClientFlags, HeraldClient, type ClientFlags } from '../client.js';
import { formatBytes, table } from '../output.js';

/** `herald streams`: a table on a terminal, one JSON object per line otherwise. */
export function streamsCommand(program: Command): void {
  addClientFlags(program.command('streams').description('list the streams: a table on a terminal, JSON lines otherwise'))
    .option('--json', 'JSON lines even on a terminal')
    .action(async (flags: ClientFlags & { json?: boolean }) => {
      const client = new HeraldClient(flags);
      const { body } = await client.request<{ streams: StreamInfo[] }>('GET', '/streams');
      if (process.stdout.isTTY && !flags.json) {
        const rows = body.streams.map((s) => [s.name, s.count, s.count > 0 ? s.firstSeq : '-', s.lastSeq, formatBytes(s.bytes), s.created]);
        process.stdout.write(body.streams.length === 0 ? 'no streams\n' : table(['NAME', 'COUNT', 'FIRST', 'LAST', 'BYTES', 'CREATED'], rows));
      } else {
        process.stdout.write(body.streams.map((s) => JSON.stringify(s) + '\n').join(''));
      }
    });
}
