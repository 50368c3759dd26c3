import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { chooseInitialCode, DraftKeeper, readLocalDraft, type SaveOutcome } from "./draft";

const KEY = "huashen:draft:7:tensor-basics";
const T0 = "2026-12-07T03:00:00+00:00";
const T1 = "2026-12-07T03:00:05+00:00";

function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, value),
  };
}

interface Sent {
  code: string;
  keepalive: boolean;
  answer: (outcome: SaveOutcome) => void;
}

function keeper(storage: Storage, serverCode = "starter", serverUpdatedAt: string | null = T0) {
  const sent: Sent[] = [];
  const states: string[] = [];
  const draft = new DraftKeeper({
    key: KEY,
    storage,
    serverCode,
    serverUpdatedAt,
    delay: 1000,
    now: () => Date.parse("2026-12-07T03:00:10+00:00"),
    send: (code, keepalive) => new Promise((resolve) => sent.push({ code, keepalive, answer: resolve })),
    onState: (state) => states.push(state),
  });
  return { draft, sent, states };
}

describe("DraftKeeper", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("keeps every edit locally at once and saves when typing pauses", async () => {
    const storage = memoryStorage();
    const { draft, sent } = keeper(storage);
    draft.edit("x = 1");
    expect(readLocalDraft(storage, KEY)?.code).toBe("x = 1");
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent.map((s) => [s.code, s.keepalive])).toEqual([["x = 1", false]]);
    // the local copy stays until the server confirms that very text
    expect(readLocalDraft(storage, KEY)?.code).toBe("x = 1");
    sent[0].answer({ ok: true, updatedAt: T1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(readLocalDraft(storage, KEY)).toBeNull();
    expect(draft.pending).toBe(false);
  });

  it("sends the newest text with keepalive when the page goes away, even with a save in flight", async () => {
    const storage = memoryStorage();
    const { draft, sent } = keeper(storage);
    draft.edit("x = 1");
    await vi.advanceTimersByTimeAsync(1000); // a save in flight, unanswered
    draft.edit("x = 12"); // typed on, 200 ms before a reload
    await vi.advanceTimersByTimeAsync(200);
    draft.flushOnExit();
    expect(sent.map((s) => [s.code, s.keepalive])).toEqual([
      ["x = 1", false],
      ["x = 12", true],
    ]);
    // and the local copy holds the newest text for the next load, whatever happens to those requests
    expect(readLocalDraft(storage, KEY)?.code).toBe("x = 12");
  });

  it("sends one request for one text when visibilitychange and pagehide both come", () => {
    const { draft, sent } = keeper(memoryStorage());
    draft.edit("x = 1");
    draft.flushOnExit();
    draft.flushOnExit();
    expect(sent.map((s) => s.code)).toEqual(["x = 1"]);
    draft.edit("x = 2"); // came back to the tab and typed on
    draft.flushOnExit();
    expect(sent.map((s) => s.code)).toEqual(["x = 1", "x = 2"]);
  });

  it("sends nothing on leaving when the server has everything", () => {
    const { draft, sent } = keeper(memoryStorage());
    draft.flushOnExit();
    expect(sent).toHaveLength(0);
  });

  it("keeps the copy when the server refuses the save, and says so", async () => {
    const storage = memoryStorage();
    const { draft, sent, states } = keeper(storage);
    draft.edit("x = 1");
    const flushed = draft.flush();
    sent[0].answer({ ok: false, message: "too large" });
    await flushed;
    expect(states).toEqual(["saving", "error"]);
    expect(readLocalDraft(storage, KEY)?.code).toBe("x = 1");
    expect(draft.pending).toBe(true);
  });

  it("restores on load an edit whose save never arrived, and saves it", async () => {
    // given the last page kept "x = 12" on top of the server draft of T0, and the server still has T0
    const storage = memoryStorage();
    storage.setItem(KEY, JSON.stringify({ code: "x = 12", savedAt: Date.parse(T0) + 500, base: T0 }));
    const { draft, sent, states } = keeper(storage, "x = 1", "2026-12-07T11:00:00.000+08:00"); // T0, other zone
    // then the editor opens with the edit, and it goes to the server
    expect(draft.restored).toBe(true);
    expect(draft.current).toBe("x = 12");
    expect(states).toEqual(["restored"]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent.map((s) => s.code)).toEqual(["x = 12"]);
  });

  it("drops a local copy the server already holds", () => {
    const storage = memoryStorage();
    storage.setItem(KEY, JSON.stringify({ code: "x = 12", savedAt: 1, base: T0 }));
    const { draft } = keeper(storage, "x = 12", T1);
    expect(draft.restored).toBe(false);
    expect(readLocalDraft(storage, KEY)).toBeNull();
  });

  it("Submit's flush waits for the save in flight, then saves the newest text", async () => {
    const { draft, sent } = keeper(memoryStorage());
    draft.edit("a");
    await vi.advanceTimersByTimeAsync(1000);
    draft.edit("ab");
    const flushed = draft.flush();
    expect(sent).toHaveLength(1); // one request at a time
    sent[0].answer({ ok: true, updatedAt: T1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((s) => s.code)).toEqual(["a", "ab"]);
    sent[1].answer({ ok: true, updatedAt: T1 });
    await flushed;
    expect(draft.pending).toBe(false);
    expect(draft.current).toBe("ab");
  });
});

describe("chooseInitialCode", () => {
  it("prefers the server when there is no local copy, or the same text", () => {
    expect(chooseInitialCode("s", T0, null)).toEqual({ code: "s", restored: false });
    expect(chooseInitialCode("s", T0, { code: "s", savedAt: 0, base: null })).toEqual({ code: "s", restored: false });
  });

  it("prefers a server draft saved elsewhere after the local edit", () => {
    const local = { code: "local", savedAt: Date.parse(T0), base: null };
    expect(chooseInitialCode("server", T1, local)).toEqual({ code: "server", restored: false });
  });

  it("restores an edit made on top of the draft the server still has, or newer than it", () => {
    expect(chooseInitialCode("server", T0, { code: "local", savedAt: 0, base: T0 }).restored).toBe(true);
    expect(chooseInitialCode("server", T0, { code: "local", savedAt: Date.parse(T1), base: null }).restored).toBe(
      true,
    );
    expect(chooseInitialCode("starter", null, { code: "local", savedAt: 0, base: null }).restored).toBe(true);
  });

  it("ignores a local copy it cannot read", () => {
    const storage = memoryStorage();
    storage.setItem(KEY, "{not json");
    expect(readLocalDraft(storage, KEY)).toBeNull();
    storage.setItem(KEY, JSON.stringify({ code: 3 }));
    expect(readLocalDraft(storage, KEY)).toBeNull();
  });
});
