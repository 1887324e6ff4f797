/**
 * What one node knows of every stream's head, kept without I/O so `store.head()` is a map look-up.
 * It learns from three sources that may arrive in any order: this node's own commits, NOTIFY
 * messages from every node's commits, and a full re-read after the LISTEN connection comes
 * back. So every update is "at least": a head never goes back, except when the stream itself is
 * replaced (deleted, or deleted and created again), which the stream's `sid` tells apart — sids
 * come from a sequence, so a newer stream of a name has a larger sid.
 */
export class StreamHeads {
  private readonly heads = new Map<string, { sid: number; head: number }>();
  /** The largest sid deleted per name, so a late message about the deleted stream is ignored. */
  private readonly deleted = new Map<string, number>();

  head(name: string): number {
    return this.heads.get(name)?.head ?? 0;
  }

  /** Records that stream `name` (id `sid`) reached `head`; true when that is news (it grew). */
  advance(name: string, sid: number, head: number): boolean {
    if (sid <= (this.deleted.get(name) ?? 0)) return false;
    const known = this.heads.get(name);
    if (known && known.sid > sid) return false;
    if (known && known.sid === sid && known.head >= head) return false;
    const grew = head > (known?.head ?? 0) || (known !== undefined && known.sid !== sid && head > 0);
    this.heads.set(name, { sid, head });
    return grew;
  }

  /** Records that stream `name` (id `sid`) was deleted. */
  remove(name: string, sid: number): void {
    if (sid > (this.deleted.get(name) ?? 0)) this.deleted.set(name, sid);
    const known = this.heads.get(name);
    if (known && known.sid <= sid) this.heads.delete(name);
  }

  /**
   * Replaces what is known with a full read of the streams table; returns the names that grew.
   * A stream absent from the read is dropped only if it is older than every stream the read saw
   * (one created after the read began is kept).
   */
  sync(rows: ReadonlyArray<{ name: string; sid: number; head: number }>): string[] {
    const grown: string[] = [];
    const seen = new Set<string>();
    let maxSid = 0;
    for (const { name, sid, head } of rows) {
      seen.add(name);
      maxSid = Math.max(maxSid, sid);
      const known = this.heads.get(name);
      if (known && known.sid < sid) this.remove(name, known.sid);
      if (this.advance(name, sid, head)) grown.push(name);
    }
    for (const [name, { sid }] of [...this.heads]) {
      if (!seen.has(name) && sid <= maxSid) this.remove(name, sid);
    }
    return grown;
  }
}

/** A NOTIFY payload: `a <sid> <head> <name>` (appended) or `d <sid> <name>` (deleted). */
export type HeadMessage = { kind: 'append'; sid: number; head: number; name: string } | { kind: 'delete'; sid: number; name: string };

/** Parses a NOTIFY payload; undefined for anything else (never throws: payloads are not trusted). */
export function parseHeadMessage(payload: string): HeadMessage | undefined {
  const parts = payload.split(' ');
  if (parts[0] === 'a' && parts.length === 4) {
    const sid = Number(parts[1]);
    const head = Number(parts[2]);
    if (Number.isSafeInteger(sid) && sid > 0 && Number.isSafeInteger(head) && head >= 0 && parts[3] !== '') return { kind: 'append', sid, head, name: parts[3]! };
  } else if (parts[0] === 'd' && parts.length === 3) {
    const sid = Number(parts[1]);
    if (Number.isSafeInteger(sid) && sid > 0 && parts[2] !== '') return { kind: 'delete', sid, name: parts[2]! };
  }
  return undefined;
}
