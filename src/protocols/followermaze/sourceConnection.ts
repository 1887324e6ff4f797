import type { Socket } from 'node:net';
import type { FollowerMaze } from './maze.js';

const LF = 0x0a;

/**
 * One event-source connection: splits what it reads into lines and hands each to the maze as a
 * byte range of the read buffer. Only a line cut by the end of a read is copied (into a carry
 * buffer, completed by the next read). Lines longer than `maxLineBytes` are skipped without
 * being buffered, so a source cannot make the server hold an unbounded line.
 */
export class SourceConnection {
  private carry: Buffer | undefined;
  /** True while skipping the rest of an overlong line. */
  private skipping = false;
  private skipped = 0;

  constructor(
    readonly socket: Socket,
    private readonly maze: FollowerMaze,
    private readonly maxLineBytes: number,
  ) {}

  readonly onData = (chunk: Buffer): void => {
    const pos = this.carry !== undefined || this.skipping ? this.continueLine(chunk) : 0;
    if (pos >= chunk.length) return;
    const rest = this.maze.consume(chunk, pos, chunk.length, this.maxLineBytes);
    if (rest < chunk.length) this.keepPartial(chunk, rest, chunk.length);
  };

  /** Called when the connection closed: a partial last line is dropped. */
  finish(): void {
    if (this.carry !== undefined && this.carry.length > 0) this.maze.incompleteLine(this.carry.length);
    else if (this.skipping) this.maze.lineTooLong(this.skipped);
    this.carry = undefined;
    this.skipping = false;
  }

  /** Completes (or keeps skipping) the line begun in an earlier read; returns where the rest starts. */
  private continueLine(chunk: Buffer): number {
    const nl = chunk.indexOf(LF);
    if (this.skipping) {
      if (nl < 0) {
        this.skipped += chunk.length;
        return chunk.length;
      }
      this.skipping = false;
      this.maze.lineTooLong(this.skipped + nl);
      return nl + 1;
    }
    const carry = this.carry!;
    const length = carry.length + (nl < 0 ? chunk.length : nl);
    if (length > this.maxLineBytes) {
      this.carry = undefined;
      if (nl < 0) {
        this.skipping = true;
        this.skipped = length;
        return chunk.length;
      }
      this.maze.lineTooLong(length);
      return nl + 1;
    }
    if (nl < 0) {
      this.carry = Buffer.concat([carry, chunk], length);
      return chunk.length;
    }
    // The completed line, with its \n, parsed like any other.
    const line = Buffer.concat([carry, chunk.subarray(0, nl + 1)], length + 1);
    this.carry = undefined;
    this.maze.consume(line, 0, line.length, this.maxLineBytes);
    return nl + 1;
  }

  private keepPartial(chunk: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length > this.maxLineBytes) {
      this.skipping = true;
      this.skipped = length;
      return;
    }
    // A copy: the read buffer is not ours to keep.
    this.carry = Buffer.from(chunk.subarray(start, end));
  }
}
