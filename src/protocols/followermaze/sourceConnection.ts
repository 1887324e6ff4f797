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
    const end = chunk.length;
    let pos = this.carry !== undefined || this.skipping ? this.continueLine(chunk) : 0;
    const maze = this.maze;
    const max = this.maxLineBytes;
    while (pos < end) {
      let nl = pos;
      while (nl < end && chunk[nl] !== LF) nl++;
      if (nl === end) {
        this.keepPartial(chunk, pos, end);
        return;
      }
      if (nl - pos > max) maze.lineTooLong(nl - pos);
      else maze.acceptLine(chunk, pos, nl);
      pos = nl + 1;
    }
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
    const line = Buffer.concat([carry, nl < 0 ? chunk : chunk.subarray(0, nl)], length);
    if (nl < 0) {
      this.carry = line;
      return chunk.length;
    }
    this.carry = undefined;
    this.maze.acceptLine(line, 0, length);
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
