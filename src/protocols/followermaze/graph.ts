import type { ClientConnection } from './client.js';

/**
 * A user: who follows them, and the client connection that currently represents them (if
 * any). Followers are User objects, not ids, so a status update walks its followers and reaches
 * their connections without a look-up per follower; they are kept in an array (a status update
 * iterates it: an array is several times faster to walk than a Set) with a map of positions, so
 * following and unfollowing stay O(1).
 */
export class User {
  /** The users following this one, in no particular order. */
  readonly followers: User[] = [];
  /** The registered connection receiving this user's notifications. */
  client: ClientConnection | undefined = undefined;
  /** Where each follower is in `followers` (created on the first follow). */
  private positions: Map<User, number> | undefined = undefined;

  constructor(readonly id: number) {}

  /** Adds a follower; false when it already followed. */
  addFollower(follower: User): boolean {
    const positions = (this.positions ??= new Map());
    if (positions.has(follower)) return false;
    positions.set(follower, this.followers.length);
    this.followers.push(follower);
    return true;
  }

  /** Removes a follower; false when it did not follow. */
  removeFollower(follower: User): boolean {
    const at = this.positions?.get(follower);
    if (at === undefined) return false;
    this.positions!.delete(follower);
    const last = this.followers.pop()!;
    if (last !== follower) {
      this.followers[at] = last;
      this.positions!.set(last, at);
    }
    return true;
  }

  /** Removes every follower. */
  clearFollowers(): void {
    this.followers.length = 0;
    this.positions = undefined;
  }
}

/**
 * Ids below this are kept in an array indexed by id (at most 8 MiB of references), others in a
 * map: most mazes number their users from 1.
 */
const DENSE_IDS = 1 << 20;

/**
 * The follower graph: the only state of the maze that grows, and only with the number of
 * users. A user record is created by a follow naming it or by a client registering as it, and is
 * kept for good: follower sets of other users may point to it.
 */
export class FollowerGraph {
  /** Users with small non-negative ids, indexed by id (the common case; no hashing). */
  private readonly dense: Array<User | undefined> = [];
  /** Every other user (negative or large ids). */
  private readonly sparse = new Map<number, User>();
  private count = 0;
  private changes: Set<User> | undefined;
  private edgeCount = 0;

  /** Starts recording which users' follower sets change (for incremental persistence). */
  trackChanges(): void {
    this.changes ??= new Set();
  }

  /** The user with this id, created when absent. */
  user(id: number): User {
    let user = this.find(id);
    if (user === undefined) {
      user = new User(id);
      this.count++;
      if (id >= 0 && id < DENSE_IDS) {
        const dense = this.dense;
        while (dense.length <= id) dense.push(undefined);
        dense[id] = user;
      } else this.sparse.set(id, user);
    }
    return user;
  }

  /** The user with this id, if the graph knows it. */
  find(id: number): User | undefined {
    if (id >= 0 && id < DENSE_IDS) return id < this.dense.length ? this.dense[id] : undefined;
    return this.sparse.get(id);
  }

  /** `from` follows `to` (idempotent); returns `to`. */
  follow(fromId: number, toId: number): User {
    const to = this.user(toId);
    if (to.addFollower(this.user(fromId))) {
      this.edgeCount++;
      this.changes?.add(to);
    }
    return to;
  }

  /** `from` stops following `to` (a no-op when it did not). */
  unfollow(fromId: number, toId: number): void {
    const to = this.find(toId);
    const from = this.find(fromId);
    if (to === undefined || from === undefined) return;
    if (to.removeFollower(from)) {
      this.edgeCount--;
      this.changes?.add(to);
    }
  }

  /** Number of users known. */
  get size(): number {
    return this.count;
  }

  /** Number of follow relations. */
  get edges(): number {
    return this.edgeCount;
  }

  /** The follower ids of each user changed since the last call (empty array: none left). */
  takeChanges(): Array<{ id: number; followers: number[] }> {
    if (this.changes === undefined || this.changes.size === 0) return [];
    const out: Array<{ id: number; followers: number[] }> = [];
    for (const user of this.changes) out.push({ id: user.id, followers: followerIds(user) });
    this.changes.clear();
    return out;
  }

  /** Restores one user's followers (loading saved state); replaces what the user had. */
  restore(id: number, followerIds: readonly number[]): void {
    const user = this.user(id);
    this.edgeCount -= user.followers.length;
    user.clearFollowers();
    for (const id of followerIds) user.addFollower(this.user(id));
    this.edgeCount += user.followers.length;
  }

  /** Every user with followers, with their follower ids (tests, full snapshots). */
  *entries(): Generator<{ id: number; followers: number[] }> {
    for (const user of [...this.dense, ...this.sparse.values()]) {
      if (user !== undefined && user.followers.length > 0) yield { id: user.id, followers: followerIds(user) };
    }
  }
}

function followerIds(user: User): number[] {
  return user.followers.map((f) => f.id);
}
