/** One delivery attempt, as the API shows it. */
export interface AttemptRecord {
  /** RFC 3339 start time. */
  time: string;
  seq: number;
  eventId: string;
  /** 1 for the first attempt of an event. */
  attempt: number;
  status?: number;
  error?: string;
  latencyMs: number;
  /** The start of the response body. */
  response?: string;
  outcome: 'delivered' | 'retrying' | 'dead' | 'disabled';
}

/** The newest `capacity` attempts of one endpoint, oldest first. In memory: a bounded history. */
export class AttemptHistory {
  private readonly items: AttemptRecord[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  add(record: AttemptRecord): void {
    if (this.items.length < this.capacity) this.items.push(record);
    else this.items[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  list(limit = this.capacity): AttemptRecord[] {
    const ordered = this.items.length < this.capacity ? this.items.slice() : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
    return ordered.reverse().slice(0, limit);
  }
}
