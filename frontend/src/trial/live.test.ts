import { describe, expect, it } from "vitest";

import { backoffDelay, type GradeEvent, LiveClient, NOT_FOUND, type SocketLike } from "./live";

class FakeSocket implements SocketLike {
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  closed = false;
  constructor(readonly url: string) {}
  open(): void {
    this.onopen?.({});
  }
  send(seq: number, kind = "stdout", payload: unknown = `line ${seq}\n`): void {
    this.onmessage?.({ data: JSON.stringify({ type: "event", seq, kind, payload, time: 0 }) });
  }
  drop(code = 1006): void {
    this.onclose?.({ code });
  }
  close(): void {
    this.closed = true;
  }
}

function harness(after = 0) {
  const sockets: FakeSocket[] = [];
  const events: GradeEvent[] = [];
  const states: string[] = [];
  const delays: number[] = [];
  const scheduled: (() => void)[] = [];
  const client = new LiveClient(7, {
    after,
    baseUrl: "ws://test",
    onEvent: (event) => events.push(event),
    onState: (state) => states.push(state),
    socketFactory: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    schedule: (callback, ms) => {
      delays.push(ms);
      scheduled.push(callback);
    },
  });
  return { client, sockets, events, states, delays, scheduled };
}

describe("LiveClient", () => {
  it("takes a batched message's events in order, each once", () => {
    const { client, sockets, events } = harness();
    client.start();
    sockets[0].open();
    const event = (seq: number) => ({ type: "event", seq, kind: "stdout", payload: `line ${seq}\n`, time: 0 });
    sockets[0].onmessage?.({ data: JSON.stringify([event(1), event(2), event(3)]) });
    sockets[0].onmessage?.({ data: JSON.stringify([event(3), event(4), { type: "noise" }]) });
    sockets[0].onmessage?.({
      data: JSON.stringify([{ type: "event", seq: 5, kind: "status", payload: { status: "done" }, time: 0 }]),
    });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(client.done).toBe(true);
  });

  it("resumes after the last seq it handed on, and drops the overlap of a replay", () => {
    const { client, sockets, events, scheduled } = harness();
    client.start();
    expect(sockets[0].url).toBe("ws://test/ws/submissions/7/?after=0&batch=1");
    sockets[0].open();
    sockets[0].send(1);
    sockets[0].send(2);
    sockets[0].send(3);
    sockets[0].drop();
    scheduled.shift()?.();
    expect(sockets[1].url).toBe("ws://test/ws/submissions/7/?after=3&batch=1");
    sockets[1].open();
    sockets[1].send(2); // a server replaying a little too much
    sockets[1].send(3);
    sockets[1].send(4);
    sockets[1].send(5, "status", { status: "done", verdict: "passed", score: 100 });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(client.done).toBe(true);
  });

  it("does not reconnect after the final event, and reports done", () => {
    const { client, sockets, states, scheduled } = harness();
    client.start();
    sockets[0].open();
    sockets[0].send(1, "status", { status: "done", verdict: "failed", score: 0 });
    sockets[0].drop(1000);
    expect(scheduled).toHaveLength(0);
    expect(states).toEqual(["open", "done"]);
  });

  it("backs off between failed connections and resets after a successful one", () => {
    const { client, sockets, delays, scheduled, states } = harness();
    client.start();
    sockets[0].drop();
    scheduled.shift()?.();
    sockets[1].drop();
    scheduled.shift()?.();
    sockets[2].open();
    sockets[2].drop();
    expect(delays).toEqual([500, 1000, 500]);
    expect(states.filter((s) => s === "reconnecting")).toHaveLength(3);
    expect(backoffDelay(10)).toBe(8000);
  });

  it("resumes from its last seq when the server says it fell behind (4008) or restarts (4503)", () => {
    const { client, sockets, events, states, scheduled } = harness();
    client.start();
    sockets[0].open();
    sockets[0].send(1);
    sockets[0].send(2);
    sockets[0].drop(4008);
    scheduled.shift()?.();
    expect(sockets[1].url).toBe("ws://test/ws/submissions/7/?after=2&batch=1");
    sockets[1].open();
    sockets[1].send(3);
    sockets[1].drop(4503);
    scheduled.shift()?.();
    expect(sockets[2].url).toBe("ws://test/ws/submissions/7/?after=3&batch=1");
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3]);
    expect(states.filter((state) => state === "reconnecting")).toHaveLength(2);
  });

  it("stops for a submission the server will not show (4404)", () => {
    const { client, sockets, states, scheduled } = harness();
    client.start();
    sockets[0].drop(NOT_FOUND);
    expect(states).toEqual(["not_found"]);
    expect(scheduled).toHaveLength(0);
  });

  it("starts from a given seq and ignores malformed messages", () => {
    const { client, sockets, events } = harness(10);
    client.start();
    expect(sockets[0].url).toContain("after=10");
    sockets[0].onmessage?.({ data: "not json" });
    sockets[0].onmessage?.({ data: JSON.stringify({ type: "other" }) });
    sockets[0].send(9);
    sockets[0].send(11);
    expect(events.map((e) => e.seq)).toEqual([11]);
  });

  it("gives up after too many failed attempts", () => {
    const sockets: FakeSocket[] = [];
    const states: string[] = [];
    const scheduled: (() => void)[] = [];
    const client = new LiveClient(1, {
      baseUrl: "ws://test",
      maxAttempts: 2,
      onEvent: () => undefined,
      onState: (state) => states.push(state),
      socketFactory: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket;
      },
      schedule: (callback) => scheduled.push(callback),
    });
    client.start();
    for (let i = 0; i < 3; i++) {
      sockets[i].drop();
      scheduled.shift()?.();
    }
    expect(states.at(-1)).toBe("failed");
  });
});
