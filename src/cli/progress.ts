import { formatBytes, formatCount } from './output.js';

/**
 * A one-line progress display on a terminal's stderr: bytes and events sent, the rate, and a
 * bar when the total size is known. Appears only after `delayMs` (small inputs never show it)
 * and redraws at most every 100 ms.
 */
export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly totalBytes: number | undefined,
    private readonly delayMs = 500,
  ) {}

  update(bytes: number, events: number): void {
    const now = performance.now();
    if (now - this.started < this.delayMs || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = (now - this.started) / 1000;
    const counts = `${formatCount(events)} events  ${formatCount(events / seconds)}/s`;
    let line = `${formatBytes(bytes)} sent  ${counts}`;
    if (this.totalBytes !== undefined && this.totalBytes > 0) {
      const fraction = Math.min(1, bytes / this.totalBytes);
      const width = 20;
      const full = Math.round(fraction * width);
      line = `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(bytes)} / ${formatBytes(this.totalBytes)}  ${counts}`;
    }
    const columns = this.out.columns ?? 100;
    this.out.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the line (before the summary is printed). */
  done(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
  }
}
