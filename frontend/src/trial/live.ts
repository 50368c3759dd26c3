// Following a submission's events over `/ws/submissions/<id>/?after=N`: every event exactly once, in seq
// order, across reconnects. The server replays everything after N; this client remembers the last seq it
// handed on, drops anything at or below it (a replay overlapping what it already has), and reconnects
// with backoff until the final "done" event arrives or the server says the submission is not ours (4404).

export interface GradeEvent {
  type: "event";
  seq: number;
  kind: "log" | "stdout" | "stderr" | "metric" | "status" | "artifact";
  payload: unknown;
  time: number;
}

export interface SocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(code?: number): void;
}

export type SocketFactory = (url: string) => SocketLike;

export interface LiveOptions {
  onEvent: (event: GradeEvent) => void;
  onState?: (state: "open" | "closed" | "reconnecting" | "done" | "not_found" | "failed") => void;
  after?: number;
  socketFactory?: SocketFactory;
  schedule?: (callback: () => void, ms: number) => unknown;
  baseUrl?: string; // ws(s)://host; defaults to this page's
  maxDelayMs?: number;
  maxAttempts?: number; // consecutive failed connections before giving up
}

export const NOT_FOUND = 4404;

export function isFinal(event: GradeEvent): boolean {
  return (
    event.kind === "status" &&
    typeof event.payload === "object" &&
    event.payload !== null &&
    (event.payload as Record<string, unknown>).status === "done"
  );
}

/** The backoff before reconnect attempt n (1-based): 0.5 s, 1 s, 2 s, … up to maxDelayMs. */
export function backoffDelay(attempt: number, maxDelayMs = 8000): number {
  return Math.min(maxDelayMs, 500 * 2 ** Math.max(0, attempt - 1));
}

function asEvent(value: unknown): GradeEvent | null {
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  if (record.type !== "event" || typeof record.seq !== "number" || typeof record.kind !== "string") return null;
  return value as GradeEvent;
}

export function parseEvent(data: unknown): GradeEvent | null {
  return parseEvents(data)[0] ?? null;
}

/** One message's events: a single event, or (the socket is opened with batch=1) an array of them in seq order. */
export function parseEvents(data: unknown): GradeEvent[] {
  if (typeof data !== "string") return [];
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return [];
  }
  const items = Array.isArray(value) ? value : [value];
  return items.map(asEvent).filter((event): event is GradeEvent => event !== null);
}

export class LiveClient {
  lastSeq: number;
  private socket: SocketLike | null = null;
  private attempts = 0;
  private finished = false;
  private stopped = false;
  private readonly options: LiveOptions;
  private readonly submissionId: number;

  constructor(submissionId: number, options: LiveOptions) {
    this.submissionId = submissionId;
    this.options = options;
    this.lastSeq = options.after ?? 0;
  }

  get done(): boolean {
    return this.finished;
  }

  url(): string {
    const base =
      this.options.baseUrl ??
      `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}`;
    return `${base}/ws/submissions/${this.submissionId}/?after=${this.lastSeq}&batch=1`;
  }

  start(): void {
    if (this.stopped || this.finished) return;
    const factory = this.options.socketFactory ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    const socket = factory(this.url());
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.options.onState?.("open");
    };
    socket.onmessage = (message) => {
      for (const event of parseEvents(message.data)) this.receive(event);
    };
    socket.onerror = () => {
      /* onclose follows and decides */
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (opened) this.attempts = 0;
      this.closed(close.code);
    };
  }

  /** Hand on an event unless it was already handed on (replays after a reconnect overlap). */
  receive(event: GradeEvent): void {
    if (this.finished || event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    if (isFinal(event)) this.finished = true;
    this.options.onEvent(event);
  }

  stop(): void {
    this.stopped = true;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
  }

  private closed(code: number): void {
    if (this.finished) {
      this.options.onState?.("done");
      return;
    }
    if (this.stopped) {
      this.options.onState?.("closed");
      return;
    }
    if (code === NOT_FOUND) {
      this.options.onState?.("not_found");
      return;
    }
    this.attempts += 1;
    if (this.attempts > (this.options.maxAttempts ?? 12)) {
      this.options.onState?.("failed");
      return;
    }
    this.options.onState?.("reconnecting");
    const schedule = this.options.schedule ?? ((callback: () => void, ms: number) => window.setTimeout(callback, ms));
    schedule(() => this.start(), backoffDelay(this.attempts, this.options.maxDelayMs));
  }
}
