import { connect, type Socket } from 'node:net';

export interface PipelineResult {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Replies that were not the expected line. */
  unexpected: number;
}

/**
 * Sends `total` copies of `line` over `connections` sockets, each keeping `depth` requests in
 * flight the way redis-benchmark -P does: a window of `depth` lines in one write, the next
 * window once all of its replies are in. Every reply must be exactly `expected`; replies are
 * checked by length and count, which costs the generator almost nothing.
 */
export async function pipeline(port: number, line: string, expected: string, total: number, connections: number, depth: number): Promise<PipelineResult> {
  const window = Buffer.from(`${line}\n`.repeat(depth));
  const replyBytes = Buffer.byteLength(expected);
  let issued = 0;
  let received = 0;
  let receivedBytes = 0;
  let unexpected = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, () =>
      new Promise<void>((resolve, reject) => {
        const socket: Socket = connect({ port, host: '127.0.0.1', noDelay: true });
        let outstanding = 0;
        const send = (): void => {
          if (issued >= total) {
            socket.end();
            return;
          }
          const n = Math.min(depth, total - issued);
          issued += n;
          outstanding = n;
          socket.write(n === depth ? window : window.subarray(0, n * (window.length / depth)));
        };
        socket.on('connect', send);
        socket.on('data', (chunk: Buffer) => {
          let lines = 0;
          for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
          received += lines;
          receivedBytes += chunk.length;
          outstanding -= lines;
          if (outstanding === 0) send();
        });
        socket.on('error', reject);
        socket.on('close', () => resolve());
      }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (receivedBytes !== received * replyBytes) unexpected = Math.max(1, Math.round(Math.abs(receivedBytes - received * replyBytes) / replyBytes));
  unexpected += total - received;
  return { requests: received, seconds, perSecond: received / seconds, unexpected };
}
