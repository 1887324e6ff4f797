/**
 * Puts events back in sequence order. Events arrive out of order; the one whose seq is the next
 * expected is delivered at once (straight from the read buffer), later ones wait in a ring
 * indexed by seq until the gap before them closes.
 *
 * Memory is bounded by how far ahead events are, not by how many have passed: the ring holds
 * the seqs [next, next + capacity), grows (by doubling) only when an event arrives further
 * ahead, never beyond `window`, and shrinks back once it is empty. An event `window` or more
 * ahead of the next expected seq is refused, as is one whose seq was already delivered
 * (go-eventserver kept both forever in a map; see docs/compat.md).
 *
 * A waiting event is kept as its parsed fields plus a copy of its line's bytes (the text is
 * forwarded exactly as received), in typed arrays: storing an event allocates nothing unless its
 * line is longer than SLOT_BYTES.
 */

/** Receives events in sequence order. */
export interface SequencedSink {
  /** One event, seq order; its line is `line[start, end)` (no terminator). */
  deliver(type: number, from: number, to: number, line: Uint8Array, start: number, end: number): void;
}

/** What `offer` did with an event. */
export const OFFER_DELIVERED = 0;
export const OFFER_WAITING = 1;
/** The seq was below the next expected one: already delivered (or ≤ 0). */
export const OFFER_STALE = 2;
/** The seq was `window` or more ahead of the next expected one. */
export const OFFER_TOO_FAR = 3;

/** Bytes of line text kept inline per ring slot; longer lines go to a side map. */
const SLOT_BYTES = 32;
const INITIAL_CAPACITY = 1024;

/** A line waiting in the ring: the fields of one event (for persistence and tests). */
export interface WaitingEvent {
  seq: number;
  line: Uint8Array;
}

export class Sequencer {
  /** The next seq to deliver. */
  next: number;
  /** Events waiting for an earlier seq. */
  waiting = 0;

  private capacity = INITIAL_CAPACITY;
  private mask = INITIAL_CAPACITY - 1;
  /** The seq stored in each slot; 0 marks an empty slot (stored seqs are always ≥ 2). */
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private types = new Uint8Array(INITIAL_CAPACITY);
  private froms = new Float64Array(INITIAL_CAPACITY);
  private tos = new Float64Array(INITIAL_CAPACITY);
  private lengths = new Uint8Array(INITIAL_CAPACITY);
  private bytes = new Uint8Array(INITIAL_CAPACITY * SLOT_BYTES);
  /** Lines longer than SLOT_BYTES, by seq. */
  private readonly long = new Map<number, Uint8Array>();

  constructor(
    private readonly sink: SequencedSink,
    /** The furthest ahead of `next` an event may be and still wait (a power of two or not). */
    readonly window: number,
    next = 1,
  ) {
    this.next = next;
  }

  /**
   * Takes one parsed event whose line is `line[start, end)`: delivers it (and every waiting event
   * it unblocks) when it is the next expected, else keeps it. Returns one of the OFFER_ codes.
   */
  offer(seq: number, type: number, from: number, to: number, line: Uint8Array, start: number, end: number): number {
    const next = this.next;
    if (seq === next) {
      this.next = next + 1;
      this.sink.deliver(type, from, to, line, start, end);
      if (this.waiting > 0) this.drain();
      return OFFER_DELIVERED;
    }
    if (seq < next) return OFFER_STALE;
    const ahead = seq - next;
    if (ahead >= this.window) return OFFER_TOO_FAR;
    if (ahead >= this.capacity) this.grow(ahead + 1);
    const slot = seq & this.mask; // ToInt32 keeps seq mod 2^32, and capacity divides 2^32
    if (this.seqs[slot] !== seq) this.waiting++;
    this.seqs[slot] = seq;
    this.types[slot] = type;
    this.froms[slot] = from;
    this.tos[slot] = to;
    const length = end - start;
    if (length <= SLOT_BYTES) {
      this.lengths[slot] = length;
      const bytes = this.bytes;
      let o = slot * SLOT_BYTES;
      for (let i = start; i < end; i++) bytes[o++] = line[i]!;
      this.long.delete(seq);
    } else {
      this.lengths[slot] = 0xff;
      // A copy: Buffer#slice would share the read buffer's memory.
      this.long.set(seq, Uint8Array.prototype.slice.call(line, start, end));
    }
    return OFFER_WAITING;
  }

  /** Delivers waiting events while the next expected one is there. */
  private drain(): void {
    const seqs = this.seqs;
    const mask = this.mask;
    let next = this.next;
    let slot = next & mask;
    while (seqs[slot] === next) {
      seqs[slot] = 0;
      this.waiting--;
      this.next = next + 1;
      const length = this.lengths[slot]!;
      if (length === 0xff) {
        const line = this.long.get(next)!;
        this.long.delete(next);
        this.sink.deliver(this.types[slot]!, this.froms[slot]!, this.tos[slot]!, line, 0, line.length);
      } else {
        const start = slot * SLOT_BYTES;
        this.sink.deliver(this.types[slot]!, this.froms[slot]!, this.tos[slot]!, this.bytes, start, start + length);
      }
      // deliver() may not re-enter offer(), but read next again in case a sink ever does.
      next = this.next;
      slot = next & mask;
    }
    if (this.waiting === 0 && this.capacity > INITIAL_CAPACITY) this.reset(INITIAL_CAPACITY);
  }

  /** Grows the ring to the smallest power of two holding `needed` seqs, keeping what waits. */
  private grow(needed: number): void {
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    this.peakSlots = Math.max(this.peakSlots, capacity);
    const old = { seqs: this.seqs, types: this.types, froms: this.froms, tos: this.tos, lengths: this.lengths, bytes: this.bytes, capacity: this.capacity };
    this.reset(capacity);
    for (let slot = 0; slot < old.capacity; slot++) {
      const seq = old.seqs[slot]!;
      if (seq === 0) continue;
      const to = seq & this.mask;
      this.seqs[to] = seq;
      this.types[to] = old.types[slot]!;
      this.froms[to] = old.froms[slot]!;
      this.tos[to] = old.tos[slot]!;
      this.lengths[to] = old.lengths[slot]!;
      this.bytes.set(old.bytes.subarray(slot * SLOT_BYTES, (slot + 1) * SLOT_BYTES), to * SLOT_BYTES);
    }
  }

  private reset(capacity: number): void {
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.seqs = new Float64Array(capacity);
    this.types = new Uint8Array(capacity);
    this.froms = new Float64Array(capacity);
    this.tos = new Float64Array(capacity);
    this.lengths = new Uint8Array(capacity);
    this.bytes = new Uint8Array(capacity * SLOT_BYTES);
  }

  /** Ring slots currently allocated (for tests of the memory bound). */
  get slots(): number {
    return this.capacity;
  }

  /** The most ring slots ever allocated at once. */
  peakSlots = INITIAL_CAPACITY;

  /** Copies of the waiting events' lines, in seq order (to save them on a clean stop). */
  waitingEvents(): WaitingEvent[] {
    const out: WaitingEvent[] = [];
    for (let slot = 0; slot < this.capacity; slot++) {
      const seq = this.seqs[slot]!;
      if (seq === 0) continue;
      const length = this.lengths[slot]!;
      const line = length === 0xff ? this.long.get(seq)!.slice() : this.bytes.slice(slot * SLOT_BYTES, slot * SLOT_BYTES + length);
      out.push({ seq, line });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
}
