import { EditorView } from "@codemirror/view";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { SocketLike } from "./live";
import { mountTryCell, renderTryOutput, tryErrorText } from "./scratch";

function cellDom(): HTMLElement {
  const cell = document.createElement("section");
  cell.innerHTML =
    '<div data-role="try-editor"><textarea aria-label="snippet">solution.f(2)</textarea></div>' +
    '<button data-testid="try"></button><span data-testid="try-status"></span><div data-testid="try-output"></div>';
  document.body.append(cell);
  return cell;
}

afterEach(() => {
  document.body.replaceChildren();
  window.localStorage.clear();
  vi.unstubAllGlobals();
});

describe("the Try cell", () => {
  it("draws stdout and stderr in order, stderr marked, then the PNG figures only", () => {
    const box = document.createElement("div");
    renderTryOutput(box, {
      output: [
        { stream: "stdout", text: "1\n" },
        { stream: "stderr", text: "warn\n" },
      ],
      artifacts: [
        { name: "figure-1", media_type: "image/png", data: "iVBORw0KGgo=" },
        { name: "x", media_type: "text/html", data: "PHNjcmlwdD4=" },
      ],
    });
    const spans = [...box.querySelectorAll("pre span")];
    expect(spans.map((span) => [span.className, span.textContent])).toEqual([
      ["try-stdout", "1\n"],
      ["try-stderr", "warn\n"],
    ]);
    const images = box.querySelectorAll("img");
    expect(images).toHaveLength(1);
    expect(images[0].getAttribute("src")).toBe("data:image/png;base64,iVBORw0KGgo=");
  });

  it("says when the snippet printed nothing", () => {
    const box = document.createElement("div");
    renderTryOutput(box, { output: [], artifacts: [] });
    expect(box.querySelector("pre")?.textContent).toBe("（代码片段没有输出）");
  });

  it("names the editor's code when the error is about it, not the snippet", () => {
    expect(tryErrorText({ code: "syntax_error", message: "第 1 行", field: "code" })).toBe("你的代码（solution.py）：第 1 行");
    expect(tryErrorText({ code: "empty_snippet", message: "先写", field: "snippet" })).toBe("先写");
  });

  it("posts the editor's current code with the snippet, streams the output, then shows the finished try", async () => {
    const cell = cellDom();
    const calls: { url: string; body: unknown }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: { method: string; body?: string }) => {
        calls.push({ url, body: init.body ? JSON.parse(init.body) : null });
        const body =
          init.method === "POST"
            ? { id: 7, status: "queued" }
            : {
                id: 7,
                status: "done",
                verdict: "passed",
                message: {},
                output: [{ stream: "stdout", text: "4\n" }],
                artifacts: [],
                resources: { wall_seconds: 0.21 },
              };
        return new Response(JSON.stringify(body), { status: init.method === "POST" ? 201 : 200 });
      }),
    );
    let socket: SocketLike | null = null;
    mountTryCell(cell, {
      url: "/api/v1/exercises/t/try/",
      currentCode: () => "def f(x):\n    return 2 * x\n",
      live: {
        socketFactory: () => {
          socket = { onopen: null, onmessage: null, onclose: null, onerror: null, close: () => undefined };
          return socket;
        },
      },
    });
    cell.querySelector<HTMLButtonElement>("[data-testid=try]")!.click();
    await vi.waitFor(() => expect(socket).not.toBeNull());
    expect(calls[0]).toEqual({
      url: "/api/v1/exercises/t/try/",
      body: { code: "def f(x):\n    return 2 * x\n", snippet: "solution.f(2)" },
    });
    const send = (event: object) => socket!.onmessage!({ data: JSON.stringify({ type: "event", ...event }) });
    send({ seq: 1, kind: "stdout", payload: "4\n", time: 0 });
    expect(cell.querySelector("[data-testid=try-text]")?.textContent).toBe("4\n");
    send({ seq: 2, kind: "status", payload: { status: "done", verdict: "passed" }, time: 0 });
    await vi.waitFor(() => expect(cell.dataset.verdict).toBe("passed"));
    expect(calls[1].url).toBe("/api/v1/exercises/t/try/7/");
    expect(cell.querySelector("[data-testid=try-status]")?.textContent).toBe(
      "运行完毕，用时 0.21 秒（没有评分，不计入尝试次数）",
    );
    expect(cell.querySelector<HTMLButtonElement>("[data-testid=try]")!.disabled).toBe(false);
  });

  it("keeps the snippet in this browser and starts from it next time", () => {
    const first = cellDom();
    mountTryCell(first, { url: "/t/", currentCode: () => "", storageKey: "draft:u1:t:try" });
    expect(first.querySelector(".cm-content")?.textContent).toBe("solution.f(2)");
    const view = EditorView.findFromDOM(first.querySelector<HTMLElement>(".cm-editor")!)!;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: "print(42)" } });
    expect(window.localStorage.getItem("draft:u1:t:try")).toBe("print(42)");
    const second = cellDom();
    mountTryCell(second, { url: "/t/", currentCode: () => "", storageKey: "draft:u1:t:try" });
    expect(second.querySelector(".cm-content")?.textContent).toBe("print(42)");
  });
});
