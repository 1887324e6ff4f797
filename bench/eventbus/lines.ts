import { connect, type Socket } from 'node:net';

/**
 * A raw event-bus connection for benchmarks: writes many request lines at once and hands back
 * reply lines as Buffers, looking for newlines only in new data (a process_events reply of
 * 10,000 events is a few MB on one line).
 */
export class LineConnection {
  private pieces: Buffer[] = [];
  private waiting: Array<{ n: number; lines: Buffer[]; resolve: (lines: Buffer[]) => void }> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static open(port: number): Promise<LineConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => resolve(new LineConnection(socket)));
    });
  }

  /** Sends the lines in one write and resolves with their replies. */
  ask(lines: string[]): Promise<Buffer[]> {
    return new Promise((resolve) => {
      this.waiting.push({ n: lines.length, lines: [], resolve });
      this.socket.write(lines.join('\n') + '\n');
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.pieces.push(chunk.subarray(start, nl));
      const line = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces);
      this.pieces = [];
      start = nl + 1;
      const w = this.waiting[0]!;
      w.lines.push(line);
      if (w.lines.length === w.n) {
        this.waiting.shift();
        w.resolve(w.lines);
      }
    }
    if (start < chunk.length) this.pieces.push(chunk.subarray(start));
  }
}
