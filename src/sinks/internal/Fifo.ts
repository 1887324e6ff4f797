/**
 * A first-in first-out queue with O(1) push and shift (an array with a moving head, compacted
 * now and then). Internal to herald/sinks.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Number of items in the queue. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Appends an item at the tail. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the head; undefined when empty (check `length` when T may be undefined). */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes every item and returns them, oldest first. */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}
