import { connect, type Socket } from 'node:net';

/** A RESP reply: a string, a number, null, an array of replies, or an Error. */
export type RespValue = string | number | null | Error | RespValue[];

/**
 * A minimal Redis client for the consume benchmark's peer (XADD, XGROUP, XREADGROUP, XACK):
 * commands are written pipelined, replies parsed incrementally, so a multi-megabyte
 * XREADGROUP reply is read once.
 */
export class RespConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private pos = 0;
  private readonly stack: Array<{ items: RespValue[]; left: number }> = [];
  private readonly waiters: Array<(v: RespValue) => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static open(port: number): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => resolve(new RespConnection(socket)));
    });
  }

  /** Sends the commands in one write; resolves with their replies in order. */
  pipeline(commands: string[][]): Promise<RespValue[]> {
    const out = commands.map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join('');
    const replies = commands.map(() => new Promise<RespValue>((r) => this.waiters.push(r)));
    this.socket.write(out);
    return Promise.all(replies);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.pos < this.buffer.length ? Buffer.concat([this.buffer.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    for (;;) {
      const value = this.next();
      if (value === undefined) return;
      let v: RespValue = value.v;
      // Fold finished values into the arrays that hold them.
      for (;;) {
        const top = this.stack[this.stack.length - 1];
        if (!top) break;
        top.items.push(v);
        if (--top.left > 0) {
          v = undefined as unknown as RespValue;
          break;
        }
        this.stack.pop();
        v = top.items;
      }
      if (v !== undefined) this.waiters.shift()!(v);
    }
  }

  /** The next complete scalar (arrays are pushed on the stack), or undefined when more data is needed. */
  private next(): { v: RespValue } | undefined {
    for (;;) {
      const eol = this.buffer.indexOf('\r\n', this.pos);
      if (eol < 0) return undefined;
      const type = this.buffer[this.pos];
      const text = this.buffer.toString('latin1', this.pos + 1, eol);
      if (type === 0x24 /* $ */) {
        const len = Number(text);
        if (len < 0) {
          this.pos = eol + 2;
          return { v: null };
        }
        if (eol + 2 + len + 2 > this.buffer.length) return undefined;
        const v = this.buffer.toString('utf8', eol + 2, eol + 2 + len);
        this.pos = eol + 2 + len + 2;
        return { v };
      }
      this.pos = eol + 2;
      if (type === 0x2a /* * */) {
        const len = Number(text);
        if (len <= 0) return { v: len < 0 ? null : [] };
        this.stack.push({ items: [], left: len });
        continue;
      }
      if (type === 0x3a /* : */) return { v: Number(text) };
      if (type === 0x2d /* - */) return { v: new Error(text) };
      return { v: text };
    }
  }
}
