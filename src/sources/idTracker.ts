/**
 * Which row ids the source has already passed on. Ids come from a sequence, but transactions
 * commit (and notify) in commit order, not id order: id 6 can arrive before id 5. So besides
 * the highest id seen, the tracker remembers the ids skipped below it (holes) for a while; a
 * late row filling a hole is new, anything else at or below the highest id is a duplicate.
 * After a reconnect the source asks the table for rows above the highest id and in the holes.
 */
export class IdTracker {
  private highest: number;
  /** Hole id → when it was opened (ms). Insertion order is age order. */
  private readonly holes = new Map<number, number>();

  constructor(
    start: number,
    /** Most holes remembered; the oldest are forgotten first. */
    private readonly maxHoles = 1000,
    /** A hole older than this is taken as a rolled-back transaction (ms). */
    private readonly holeTtlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.highest = start;
  }

  /** The highest id accepted (or the start). */
  get max(): number {
    return this.highest;
  }

  /** True when `id` was not seen before (and records it). */
  accept(id: number): boolean {
    if (id > this.highest) {
      const t = this.now();
      for (let h = Math.max(this.highest + 1, id - this.maxHoles); h < id; h++) this.holes.set(h, t);
      this.highest = id;
      this.trim();
      return true;
    }
    return this.holes.delete(id);
  }

  /**
   * The highest id up to which every id was accepted (or its hole given up): where a reader that
   * loses this tracker can start again without missing a row that is still to come.
   */
  get settled(): number {
    this.trim();
    // Holes are opened in ascending order and removed, never added below: the first is the lowest.
    for (const hole of this.holes.keys()) return hole - 1;
    return this.highest;
  }

  /** Ids below the highest that may still arrive (expired ones are dropped first). */
  openHoles(): number[] {
    this.trim();
    return [...this.holes.keys()];
  }

  private trim(): void {
    const oldest = this.now() - this.holeTtlMs;
    for (const [id, t] of this.holes) {
      if (this.holes.size <= this.maxHoles && t >= oldest) break;
      this.holes.delete(id);
    }
  }
}
