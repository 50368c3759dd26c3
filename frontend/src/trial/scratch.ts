// The Try cell under the editor: a snippet run in the sandbox with the editor's current code importable
// as `solution`. Nothing is graded and no attempt is counted. Output streams in over the submission's
// WebSocket as a run's does; the finished try (its output, figures and how it ended) is then read from
// GET /api/v1/exercises/<slug>/try/<id>/, which is also the fallback when the socket cannot follow it.

import type { EditorView } from "@codemirror/view";

import "./scratch.css";

import { api, type ApiResult } from "./api";
import { createEditor } from "./editor";
import { pick, t } from "./i18n";
import { type GradeEvent, isFinal, LiveClient, type LiveOptions } from "./live";

export interface TryDetail {
  id: number;
  status: string;
  verdict: string;
  message: Record<string, string>;
  output: { stream: "stdout" | "stderr"; text: string }[];
  artifacts: { name: string; media_type: string; data: string }[];
  resources: Record<string, unknown>;
}

export interface TryCellOptions {
  url: string; // the trial's try/ endpoint
  currentCode: () => string; // what the editor holds now
  storageKey?: string; // where this browser keeps the snippet between visits (this user's, this trial's)
  live?: Partial<LiveOptions>; // for tests
  pollMs?: number;
}

const POLL_MS = 400;

/** Text of an error answer, naming which text it is about (the snippet or the editor's code). */
export function tryErrorText(error: NonNullable<ApiResult<unknown>["error"]>): string {
  if (error.field === "code") return t("tryCodeError", { message: error.message });
  return error.message;
}

/** Draw a try's output: stdout and stderr in order (stderr marked), then its figures. */
export function renderTryOutput(box: HTMLElement, detail: Pick<TryDetail, "output" | "artifacts">): void {
  const doc = box.ownerDocument;
  box.replaceChildren();
  const pre = doc.createElement("pre");
  pre.className = "try-text";
  pre.dataset.testid = "try-text";
  for (const chunk of detail.output) {
    const span = doc.createElement("span");
    span.className = chunk.stream === "stderr" ? "try-stderr" : "try-stdout";
    span.textContent = chunk.text;
    pre.append(span);
  }
  if (detail.output.length === 0) {
    pre.classList.add("empty");
    pre.textContent = t("tryNoOutput");
  }
  box.append(pre);
  for (const artifact of detail.artifacts) {
    if (artifact.media_type !== "image/png") continue;
    const image = doc.createElement("img");
    image.className = "try-figure";
    image.dataset.testid = "try-figure";
    image.alt = t("tryFigure", { name: artifact.name });
    image.src = `data:image/png;base64,${artifact.data}`;
    box.append(image);
  }
}

function readKept(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage refused (private mode, a policy): the cell starts from the page's example
  }
}

function keep(key: string, text: string): void {
  try {
    window.localStorage.setItem(key, text);
  } catch {
    /* not kept: nothing else depends on it */
  }
}

export function mountTryCell(cell: HTMLElement, options: TryCellOptions): void {
  const box = cell.querySelector<HTMLElement>('[data-role="try-editor"]');
  const button = cell.querySelector<HTMLButtonElement>('[data-testid="try"]');
  const status = cell.querySelector<HTMLElement>('[data-testid="try-status"]');
  const output = cell.querySelector<HTMLElement>('[data-testid="try-output"]');
  if (box === null || button === null || status === null || output === null) return;

  const fallback = box.querySelector<HTMLTextAreaElement>("textarea");
  const label = fallback?.getAttribute("aria-label") ?? "snippet";
  const kept = options.storageKey === undefined ? null : readKept(options.storageKey);
  const initial = kept ?? fallback?.value ?? "";
  box.replaceChildren();
  let busy = false;
  let client: LiveClient | null = null;
  let poll: number | null = null;
  const view: EditorView = createEditor(box, {
    doc: initial,
    label,
    onChange: (text) => {
      if (options.storageKey !== undefined) keep(options.storageKey, text);
    },
    onRun: () => void run(),
    onSubmit: () => void run(),
  });

  const say = (text: string, state: string): void => {
    status.textContent = text;
    status.dataset.state = state;
  };
  const finish = (): void => {
    busy = false;
    button.disabled = false;
    client?.stop();
    client = null;
    if (poll !== null) window.clearTimeout(poll);
    poll = null;
  };

  const showDetail = (detail: TryDetail): void => {
    renderTryOutput(output, detail);
    const seconds = typeof detail.resources.wall_seconds === "number" ? detail.resources.wall_seconds : null;
    if (detail.verdict === "passed") {
      say(seconds === null ? t("tryDone") : t("tryDoneIn", { seconds: seconds.toFixed(2) }), "done");
    } else {
      say(pick(detail.message) || detail.verdict, "error");
    }
    cell.dataset.verdict = detail.verdict;
    finish();
  };

  const fetchDetail = async (id: number): Promise<void> => {
    const result = await api<TryDetail>(`${options.url}${id}/`);
    if (!result.ok || result.data === null) {
      say(t("requestFailed", { message: result.error?.message ?? "" }), "error");
      finish();
      return;
    }
    if (result.data.status === "done") {
      showDetail(result.data);
      return;
    }
    poll = window.setTimeout(() => void fetchDetail(id), options.pollMs ?? POLL_MS);
  };

  // The streamed output, shown while it runs; replaced by the finished try's own output at the end.
  const follow = (id: number): void => {
    const live = output.ownerDocument.createElement("pre");
    live.className = "try-text";
    live.dataset.testid = "try-text";
    output.replaceChildren(live);
    client = new LiveClient(id, {
      ...options.live,
      onEvent: (event: GradeEvent) => {
        if ((event.kind === "stdout" || event.kind === "stderr") && typeof event.payload === "string") {
          const span = output.ownerDocument.createElement("span");
          span.className = event.kind === "stderr" ? "try-stderr" : "try-stdout";
          span.textContent = event.payload;
          live.append(span);
        }
        if (isFinal(event)) void fetchDetail(id);
      },
      onState: (state) => {
        if (state === "failed" || state === "not_found") void fetchDetail(id);
      },
    });
    client.start();
  };

  const run = async (): Promise<void> => {
    if (busy) return;
    const snippet = view.state.doc.toString();
    busy = true;
    button.disabled = true;
    delete cell.dataset.verdict;
    output.replaceChildren();
    say(t("tryRunning"), "running");
    const result = await api<TryDetail>(options.url, {
      method: "POST",
      body: { code: options.currentCode(), snippet },
    });
    if (!result.ok || result.data === null) {
      say(result.error === null ? t("requestFailed", { message: "" }) : tryErrorText(result.error), "error");
      finish();
      return;
    }
    follow(result.data.id);
  };

  button.addEventListener("click", () => void run());
}
