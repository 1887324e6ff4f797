import { locateInRun, type StoredRun } from '../core/ids.js';
import type { BatchWrites } from './batch.js';

/**
 * Where events are by id, in memory: producer-chosen ids one by one, minted ids by their run
 * (core/ids.ts), as the LMDB store indexes them on disk. One entry per run keeps the index small
 * and its churn low under a stream's retention.
 */
export class IdIndex {
  private readonly ids = new Map<string, { sid: number; seq: number }>();
  private readonly runs = new Map<string, StoredRun>();

  /** Indexes a commit's new ids and runs. */
  add(w: Pick<BatchWrites, 'ids' | 'runs'>): void {
    for (const { id, sid, seq } of w.ids) this.ids.set(id, { sid, seq });
    for (const { prefix, lo, count, sid, firstSeq } of w.runs) this.runs.set(prefix, [sid, firstSeq, lo, count]);
  }

  /** Forgets the ids and runs a commit removed. */
  remove(w: Pick<BatchWrites, 'removedIds' | 'removedRuns'>): void {
    for (const id of w.removedIds) this.ids.delete(id);
    for (const prefix of w.removedRuns) this.runs.delete(prefix);
  }

  find(id: string): { sid: number; seq: number } | undefined {
    return this.ids.get(id) ?? locateInRun(id, (prefix) => this.runs.get(prefix));
  }

  clear(): void {
    this.ids.clear();
    this.runs.clear();
  }
}
