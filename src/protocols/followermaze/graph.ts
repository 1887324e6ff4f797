import type { ClientConnection } from './client.js';

/**
 * A user: who follows them, and the client connection that currently represents them (if
 * any). Follower sets hold User objects, not ids, so a status update walks its followers and
 * reaches their connections without a look-up per follower.
 */
export class User {
  /** The users following this one (created on the first follow). */
  followers: Set<User> | undefined = undefined;
  /** The registered connection receiving this user's notifications. */
  client: ClientConnection | undefined = undefined;

  constructor(readonly id: number) {}
}

/**
 * The follower graph: the only state of the maze that grows, and only with the number of
 * users. A user record is created by a follow naming it or by a client registering as it, and is
 * kept for good: follower sets of other users may point to it.
 */
export class FollowerGraph {
  private readonly users = new Map<number, User>();
  private changes: Set<User> | undefined;
  private edgeCount = 0;

  /** Starts recording which users' follower sets change (for incremental persistence). */
  trackChanges(): void {
    this.changes ??= new Set();
  }

  /** The user with this id, created when absent. */
  user(id: number): User {
    let user = this.users.get(id);
    if (user === undefined) {
      user = new User(id);
      this.users.set(id, user);
    }
    return user;
  }

  /** The user with this id, if the graph knows it. */
  find(id: number): User | undefined {
    return this.users.get(id);
  }

  /** `from` follows `to` (idempotent); returns `to`. */
  follow(fromId: number, toId: number): User {
    const to = this.user(toId);
    const from = this.user(fromId);
    let followers = to.followers;
    if (followers === undefined) followers = to.followers = new Set();
    const before = followers.size;
    followers.add(from);
    if (followers.size !== before) {
      this.edgeCount++;
      this.changes?.add(to);
    }
    return to;
  }

  /** `from` stops following `to` (a no-op when it did not). */
  unfollow(fromId: number, toId: number): void {
    const followers = this.users.get(toId)?.followers;
    const from = this.users.get(fromId);
    if (followers === undefined || from === undefined) return;
    if (followers.delete(from)) {
      this.edgeCount--;
      this.changes?.add(this.users.get(toId)!);
    }
  }

  /** Number of users known. */
  get size(): number {
    return this.users.size;
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
    this.edgeCount -= user.followers?.size ?? 0;
    user.followers = new Set(followerIds.map((f) => this.user(f)));
    this.edgeCount += user.followers.size;
  }

  /** Every user with followers, with their follower ids (tests, full snapshots). */
  *entries(): Generator<{ id: number; followers: number[] }> {
    for (const user of this.users.values()) if (user.followers !== undefined && user.followers.size > 0) yield { id: user.id, followers: followerIds(user) };
  }
}

function followerIds(user: User): number[] {
  const ids: number[] = [];
  if (user.followers !== undefined) for (const f of user.followers) ids.push(f.id);
  return ids;
}
