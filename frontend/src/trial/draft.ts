// The student's draft, kept so that no keystroke is lost: every edit is written at once to a local copy
// (localStorage), saved to the server when typing pauses, and sent with a keepalive request when the page
// goes away (a reload, a closed tab, a switch to another app). The local copy stays until the server has
// confirmed that very text, so an edit whose request did not arrive in time (a reload 200 ms after typing:
// the new page can be rendered before the old page's last request is stored) is restored on the next load.

/** What the browser keeps of an edit the server has not confirmed yet. */
export interface LocalDraft {
  code: string;
  /** When it was typed (this browser's clock, ms since the epoch). */
  savedAt: number;
  /** The server draft's `updated_at` the edit was made on top of (null: no server draft then). */
  base: string | null;
}

export interface SaveOutcome {
  ok: boolean;
  /** The saved draft's `updated_at`, as the server said it. */
  updatedAt?: string | null;
  message?: string;
}

export type DraftState = "saving" | "saved" | "error" | "restored";

export interface DraftKeeperOptions {
  /** One key per user and trial: a shared computer never shows one student's code to another. */
  key: string;
  storage: Storage | null;
  /** The server's draft as the page was rendered with it. */
  serverCode: string;
  serverUpdatedAt: string | null;
  /** PUT the draft; `keepalive` when the page is going away. */
  send: (code: string, keepalive: boolean) => Promise<SaveOutcome>;
  onState?: (state: DraftState, message?: string) => void;
  delay: number;
  now?: () => number;
}

export function readLocalDraft(storage: Storage | null, key: string): LocalDraft | null {
  if (storage === null) return null;
  try {
    const raw = storage.getItem(key);
    if (raw === null) return null;
    const value = JSON.parse(raw) as Partial<LocalDraft>;
    if (typeof value.code !== "string" || typeof value.savedAt !== "number") return null;
    return { code: value.code, savedAt: value.savedAt, base: typeof value.base === "string" ? value.base : null };
  } catch {
    return null;
  }
}

/**
 * The text to open the editor with: the local copy when it holds an edit the server's draft lacks — it was
 * made on top of the very draft the server still has (its last save never arrived), or it is newer than
 * the server's draft (saved from elsewhere meanwhile) — and the server's draft otherwise.
 */
export function chooseInitialCode(
  serverCode: string,
  serverUpdatedAt: string | null,
  local: LocalDraft | null,
): { code: string; restored: boolean } {
  if (local === null || local.code === serverCode) return { code: serverCode, restored: false };
  const serverTime = instant(serverUpdatedAt);
  if (instant(local.base) === serverTime || local.savedAt > serverTime) return { code: local.code, restored: true };
  return { code: serverCode, restored: false };
}

/** A server timestamp as ms (two spellings of one instant compare equal); no draft is minus infinity. */
function instant(timestamp: string | null): number {
  if (timestamp === null) return Number.NEGATIVE_INFINITY;
  const value = Date.parse(timestamp);
  return Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value;
}

export class DraftKeeper {
  private readonly options: DraftKeeperOptions;
  private readonly now: () => number;
  private code: string;
  private confirmed: string;
  private base: string | null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | null = null;
  private sentOnExit: string | null = null;
  readonly restored: boolean;

  constructor(options: DraftKeeperOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.base = options.serverUpdatedAt;
    this.confirmed = options.serverCode;
    const local = readLocalDraft(options.storage, options.key);
    const initial = chooseInitialCode(options.serverCode, options.serverUpdatedAt, local);
    this.code = initial.code;
    this.restored = initial.restored;
    if (initial.restored) {
      options.onState?.("restored");
      this.schedule(); // the server has not got it yet
    } else if (local !== null) {
      this.forgetLocal(); // the server's draft already holds it, or is newer
    }
  }

  /** The editor's text as last reported: what Run and Submit must send. */
  get current(): string {
    return this.code;
  }

  get pending(): boolean {
    return this.code !== this.confirmed;
  }

  /** An edit: kept locally at once, saved to the server once typing pauses. */
  edit(code: string): void {
    this.code = code;
    this.keepLocal();
    this.schedule();
  }

  /** Save now (Run, Submit and Reset call it); resolves once the server has answered. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight !== null) await this.inFlight; // one request at a time; the newest text goes next
    if (!this.pending) return;
    const sending = this.code;
    this.inFlight = this.put(sending, false);
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
  }

  /**
   * The page is going away: send what the server lacks now, with keepalive, whatever is in flight (a
   * timer would never fire). The local copy stays until a later load sees the server holds the text.
   */
  flushOnExit(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // visibilitychange and pagehide both come on a reload: one request for one text.
    if (!this.pending || this.code === this.sentOnExit) return;
    this.sentOnExit = this.code;
    this.keepLocal();
    void this.options.send(this.code, true).catch(() => undefined);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.options.delay);
  }

  private async put(sending: string, keepalive: boolean): Promise<void> {
    this.options.onState?.("saving");
    let outcome: SaveOutcome;
    try {
      outcome = await this.options.send(sending, keepalive);
    } catch (error) {
      outcome = { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    if (!outcome.ok) {
      this.options.onState?.("error", outcome.message ?? "");
      return;
    }
    this.confirmed = sending;
    if (outcome.updatedAt !== undefined) this.base = outcome.updatedAt;
    if (this.code === sending) this.forgetLocal();
    else this.keepLocal(); // typed on meanwhile: the copy now sits on top of the new server draft
    this.options.onState?.("saved");
  }

  private keepLocal(): void {
    const storage = this.options.storage;
    if (storage === null) return;
    const copy: LocalDraft = { code: this.code, savedAt: this.now(), base: this.base };
    try {
      storage.setItem(this.options.key, JSON.stringify(copy));
    } catch {
      /* full or refused (private mode): the server save still runs */
    }
  }

  private forgetLocal(): void {
    try {
      this.options.storage?.removeItem(this.options.key);
    } catch {
      /* nothing to forget */
    }
  }
}

/** localStorage, or null where the browser refuses it (some private modes throw on access). */
export function browserStorage(): Storage | null {
  try {
    const storage = window.localStorage;
    const probe = "huashen:probe";
    storage.setItem(probe, "1");
    storage.removeItem(probe);
    return storage;
  } catch {
    return null;
  }
}
