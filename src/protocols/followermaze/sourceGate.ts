import type { Socket } from 'node:net';

/**
 * Backpressure on the event sources. Whatever cannot keep up (a client whose socket has too many
 * unsent bytes, the stream mirror's pending appends) holds the gate; while anything holds it,
 * every source connection is paused, so the kernel's socket buffers (and in the end the event
 * source itself) absorb the surplus instead of the heap.
 */
export class SourceGate {
  private readonly sockets = new Set<Socket>();
  private holds = 0;

  /** True while something holds the gate. */
  get closed(): boolean {
    return this.holds > 0;
  }

  /** Number of source connections. */
  get size(): number {
    return this.sockets.size;
  }

  add(socket: Socket): void {
    this.sockets.add(socket);
    if (this.holds > 0) socket.pause();
  }

  delete(socket: Socket): void {
    this.sockets.delete(socket);
  }

  /** Pauses the sources until a matching `release`. */
  hold(): void {
    if (this.holds++ === 0) for (const socket of this.sockets) socket.pause();
  }

  release(): void {
    if (this.holds === 0) return;
    if (--this.holds === 0) for (const socket of this.sockets) socket.resume();
  }

  /** Every current source connection. */
  all(): Socket[] {
    return [...this.sockets];
  }
}
