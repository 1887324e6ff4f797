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
  outcome: AttemptOutcomeName;
}

export type AttemptOutcomeName = 'delivered' | 'retrying' | 'dead' | 'disabled';

/** What a lane hands over per attempt: the record's facts, the time as epoch ms. */
export interface AttemptFacts {
  time: number;
  seq: number;
  eventId: string;
  attempt: number;
  status: number | undefined;
  error: string | undefined;
  latencyMs: number;
  response: string | undefined;
  outcome: AttemptOutcomeName;
}

const OUTCOMES: readonly AttemptOutcomeName[] = ['delivered', 'retrying', 'dead', 'disabled'];
/** Numbers kept per attempt: time, seq, attempt, status (0: none), latency, outcome index. */
const NUMBERS = 6;

/**
 * The newest `capacity` attempts of one endpoint, in memory: a ring of numbers plus the strings
 * of each attempt. Records (and their RFC 3339 times) are built only when the API asks, so a
 * delivery costs a few stores into the ring rather than a record object and a formatted time
 * that would live on until `capacity` later deliveries replaced it.
 */
export class AttemptHistory {
  private readonly numbers: Float64Array;
  private readonly eventIds: string[];
  private readonly errors: Array<string | undefined>;
  private readonly responses: Array<string | undefined>;
  private size = 0;
  private next = 0;

  constructor(private readonly capacity: number) {
    this.numbers = new Float64Array(capacity * NUMBERS);
    this.eventIds = new Array<string>(capacity).fill('');
    this.errors = new Array<string | undefined>(capacity).fill(undefined);
    this.responses = new Array<string | undefined>(capacity).fill(undefined);
  }

  add(facts: AttemptFacts): void {
    const at = this.next;
    const n = at * NUMBERS;
    this.numbers[n] = facts.time;
    this.numbers[n + 1] = facts.seq;
    this.numbers[n + 2] = facts.attempt;
    this.numbers[n + 3] = facts.status ?? 0;
    this.numbers[n + 4] = facts.latencyMs;
    this.numbers[n + 5] = OUTCOMES.indexOf(facts.outcome);
    this.eventIds[at] = facts.eventId;
    this.errors[at] = facts.error;
    this.responses[at] = facts.response === '' ? undefined : facts.response;
    this.next = (at + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Newest first. */
  list(limit = this.capacity): AttemptRecord[] {
    const records: AttemptRecord[] = [];
    for (let i = 1; i <= Math.min(limit, this.size); i++) records.push(this.record((this.next - i + this.capacity) % this.capacity));
    return records;
  }

  private record(at: number): AttemptRecord {
    const n = at * NUMBERS;
    const status = this.numbers[n + 3]!;
    const error = this.errors[at];
    const response = this.responses[at];
    return {
      time: new Date(this.numbers[n]!).toISOString(),
      seq: this.numbers[n + 1]!,
      eventId: this.eventIds[at]!,
      attempt: this.numbers[n + 2]!,
      latencyMs: Math.round(this.numbers[n + 4]! * 100) / 100,
      outcome: OUTCOMES[this.numbers[n + 5]!]!,
      ...(status !== 0 ? { status } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(response !== undefined ? { response } : {}),
    };
  }
}
