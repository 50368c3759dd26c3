// One submission, finished or running: status line, the terminal, live metric charts and the feedback.
// `mountSubmissionView(element, id)` is what any page uses (`<div data-island="submission"
// data-submission-id="N">`); the trial page mounts it for each run, with its own status line.

import { api } from "./api";
import { Charts } from "./charts";
import { showCoachBesideChecks } from "./coach_beside";
import { renderFeedback, type SubmissionDetail } from "./feedback";
import { pick, t, verdictText } from "./i18n";
import { type GradeEvent, LiveClient, type LiveOptions } from "./live";
import { type Overlay, ratioText, standingOf } from "./series";
import { Terminal } from "./terminal";

export interface SubmissionViewOptions {
  statusElement?: HTMLElement; // the page's own status line; otherwise the view makes one
  onFinished?: (detail: SubmissionDetail) => void;
  onGaveUp?: () => void; // no result will come (not found, connection lost for good, detail unreadable)
  live?: Partial<LiveOptions>; // for tests: a socket factory, a scheduler
  queuePollMs?: number;
}

export interface SubmissionView {
  readonly submissionId: number;
  readonly terminal: Terminal;
  readonly charts: Charts;
  stop(): void;
}

function setLive(state: "open" | "closed"): void {
  document.body.dataset.live = state;
}

export function mountSubmissionView(
  element: HTMLElement,
  submissionId: number,
  options: SubmissionViewOptions = {},
): SubmissionView {
  const doc = element.ownerDocument;
  element.replaceChildren();
  element.classList.add("submission-view");
  element.setAttribute("aria-busy", "true");

  let status = options.statusElement;
  if (status === undefined) {
    status = doc.createElement("p");
    status.className = "status";
    status.dataset.testid = "status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    element.append(status);
  }
  const statusLine = status;
  const say = (text: string, state?: string): void => {
    statusLine.textContent = text;
    if (state !== undefined) statusLine.dataset.state = state;
  };
  say(t("loading"), "loading");

  const terminalBox = doc.createElement("div");
  terminalBox.className = "terminal";
  terminalBox.dataset.testid = "terminal";
  terminalBox.setAttribute("role", "log");
  terminalBox.setAttribute("aria-label", t("terminalLabel"));
  terminalBox.tabIndex = 0; // scrollable with the keyboard
  terminalBox.dataset.empty = t("noOutput");
  const chartsBox = doc.createElement("div");
  chartsBox.className = "charts";
  chartsBox.dataset.testid = "charts";
  chartsBox.setAttribute("aria-label", t("chartsHeading"));
  chartsBox.hidden = true;
  const feedback = doc.createElement("section");
  feedback.className = "feedback";
  feedback.hidden = true;
  // The checks come first once there are any; the log folds below them when the run did not pass.
  const log = doc.createElement("details");
  log.className = "run-log";
  log.dataset.testid = "log";
  log.open = true;
  const logSummary = doc.createElement("summary");
  logSummary.textContent = t("logHeading");
  log.append(logSummary, terminalBox);
  element.append(feedback, chartsBox, log);

  const terminal = new Terminal(terminalBox);
  const charts = new Charts(chartsBox);
  let stopped = false;
  let started = false; // any event seen: the job left the queue
  let finished = false;
  let pollTimer: number | undefined;

  // Curves to compare against: the cohort's median (when the platform has enough passed runs) and the
  // reference solution's (when one was recorded with the trial's version).
  let curves: { median: Overlay[]; runs: number; reference: Overlay[] } | null = null;
  let shown: SubmissionDetail | null = null;
  const sayStanding = (): void => {
    if (curves === null || shown === null || feedback.querySelector("[data-testid=standing]")) return;
    const lines: string[] = [];
    const median = standingOf(charts.series, curves.median);
    if (median !== null) {
      lines.push(t("standing", { step: median.step, metric: median.metric, ratio: ratioText(median.ratio),
                                 n: curves.runs }));
    }
    const reference = standingOf(charts.series, curves.reference);
    if (reference !== null) {
      lines.push(t("standingReference", { step: reference.step, metric: reference.metric,
                                          ratio: ratioText(reference.ratio) }));
    }
    for (const text of lines) {
      const line = doc.createElement("p");
      line.className = "standing";
      line.dataset.testid = "standing";
      line.textContent = text;
      (feedback.querySelector("[data-testid=verdict]") ?? feedback).append(line);
    }
  };
  const curvesOf = (value: unknown, key: "median" | "values"): Overlay[] =>
    (Array.isArray(value) ? value : []).flatMap((item: unknown) => {
      if (typeof item !== "object" || item === null) return [];
      const record = item as Record<string, unknown>;
      const values = record[key];
      if (typeof record.name !== "string" || !Array.isArray(record.steps) || !Array.isArray(values)) return [];
      return [{ name: record.name, steps: record.steps as number[], values: values as number[] }];
    });
  const loadCurves = async (exercise: string): Promise<void> => {
    const result = await api<{ available?: unknown; runs?: unknown; series?: unknown; reference?: unknown }>(
      `/api/v1/exercises/${encodeURIComponent(exercise)}/curves/`,
    );
    if (stopped || !result.ok || result.data === null) return;
    const median = result.data.available === true ? curvesOf(result.data.series, "median") : [];
    const reference = curvesOf(result.data.reference, "values");
    const runs = typeof result.data.runs === "number" ? result.data.runs : 0;
    if (median.length === 0 && reference.length === 0) return;
    curves = { median, runs, reference };
    if (median.length > 0) charts.setOverlays(median, t("cohortMedian", { n: runs }), "cohort-median");
    if (reference.length > 0) charts.setOverlays(reference, t("referenceCurve"), "reference");
    sayStanding();
  };

  const showFeedback = (detail: SubmissionDetail): void => {
    renderFeedback(feedback, detail);
    shown = detail;
    sayStanding();
    if (detail.verdict !== "passed") log.open = false;
    // A failed check may have a famous mistake behind it: the coach's finding goes beside it, and what the
    // run itself showed (a device mismatch, a NaN loss, …) above the checks.
    if (detail.verdict !== "passed") void showCoachBesideChecks(feedback, submissionId);
  };

  // While it runs, the status line says for how long.
  let runningSince: number | null = null;
  let clock: number | undefined;
  const tick = (): void => {
    if (runningSince === null || finished || stopped || statusLine.dataset.state !== "running") return;
    const seconds = Math.floor((Date.now() - runningSince) / 1000);
    if (seconds >= 1) say(`${runningText} ${t("elapsed", { seconds })}`);
  };
  const startClock = (): void => {
    if (runningSince !== null) return;
    runningSince = Date.now();
    clock = window.setInterval(tick, 1000);
  };

  const finish = async (): Promise<void> => {
    if (finished || stopped) return;
    finished = true;
    window.clearInterval(clock);
    terminalBox.dataset.empty = t("noOutputDone");
    window.clearTimeout(pollTimer);
    const result = await api<SubmissionDetail>(`/api/v1/submissions/${submissionId}/`);
    element.setAttribute("aria-busy", "false");
    if (!result.ok || result.data === null) {
      say(t("loadFailed", { message: result.error?.message ?? "" }), "error");
      options.onGaveUp?.();
      return;
    }
    showFeedback(result.data);
    say(verdictText(result.data.verdict), "done");
    statusLine.dataset.verdict = result.data.verdict;
    options.onFinished?.(result.data);
  };

  const stickToBottom = (): void => {
    const near = terminalBox.scrollHeight - terminalBox.scrollTop - terminalBox.clientHeight < 48;
    if (near) terminalBox.scrollTop = terminalBox.scrollHeight;
  };

  let runningText = t("running");
  const onEvent = (event: GradeEvent): void => {
    if (!started) {
      started = true;
      window.clearTimeout(pollTimer);
      if (!finished) {
        say(t("running"), "running");
        startClock();
      }
    }
    switch (event.kind) {
      case "stdout":
      case "stderr":
        if (typeof event.payload === "string") {
          const bottom = terminalBox.scrollHeight - terminalBox.scrollTop - terminalBox.clientHeight < 48;
          terminal.write(event.payload, event.seq, event.kind);
          if (bottom) terminalBox.scrollTop = terminalBox.scrollHeight;
        }
        break;
      case "log": {
        const payload = event.payload as { message?: unknown } | null;
        const text = payload && typeof payload === "object" ? pick(payload.message) : "";
        if (text) terminal.notice(text, event.seq);
        stickToBottom();
        break;
      }
      case "metric":
        charts.add(event.payload);
        break;
      case "status": {
        const payload = (event.payload ?? {}) as Record<string, unknown>;
        if (payload.status === "running" && !finished) {
          runningText =
            typeof payload.device === "string" ? t("runningOn", { device: payload.device.toUpperCase() }) : t("running");
          say(runningText, "running");
        } else if (payload.status === "done" && !finished) {
          say(t("finishing"), "finishing");
          void finish();
        } else if (payload.status === "done") {
          sayStanding(); // a finished run's stored log has replayed: its curves are all there
        }
        break;
      }
      default:
        break;
    }
  };

  const client = new LiveClient(submissionId, {
    onEvent,
    onState: (state) => {
      if (state === "open") {
        setLive("open");
        // Back after a reconnect: say again what the run is doing, not that the connection is lost.
        if (statusLine.dataset.state === "reconnecting" && !finished) {
          say(started ? runningText : t("queued"), started ? "running" : "queued");
        }
      } else setLive("closed");
      if (state === "reconnecting" && !finished) say(t("reconnecting"), "reconnecting");
      if (state === "not_found") {
        say(t("notFound"), "error");
        options.onGaveUp?.();
      }
      if (state === "failed" && !finished) {
        say(t("connectionFailed"), "error");
        options.onGaveUp?.();
      }
    },
    ...options.live,
  });

  const pollQueue = async (): Promise<void> => {
    if (stopped || started || finished) return;
    const result = await api<{ status: string; ahead: number | null }>(`/api/v1/submissions/${submissionId}/queue/`);
    if (stopped || started || finished) return;
    if (result.ok && result.data !== null) {
      if (result.data.status === "queued") {
        const ahead = result.data.ahead ?? 0;
        say(ahead > 0 ? t("queuedAhead", { n: ahead }) : t("queuedNext"), "queued");
      } else if (result.data.status === "running") {
        say(t("running"), "running");
      }
    }
    pollTimer = window.setTimeout(() => void pollQueue(), options.queuePollMs ?? 2000);
  };

  void (async () => {
    const result = await api<SubmissionDetail>(`/api/v1/submissions/${submissionId}/`);
    if (stopped) return;
    if (!result.ok || result.data === null) {
      element.setAttribute("aria-busy", "false");
      say(result.status === 404 ? t("notFound") : t("loadFailed", { message: result.error?.message ?? "" }), "error");
      options.onGaveUp?.();
      return;
    }
    const detail = result.data;
    if (typeof detail.exercise === "string" && detail.exercise !== "") void loadCurves(detail.exercise);
    if (detail.status === "done") {
      finished = true;
      terminalBox.dataset.empty = t("noOutputDone");
      element.setAttribute("aria-busy", "false");
      showFeedback(detail);
      say(verdictText(detail.verdict), "done");
      statusLine.dataset.verdict = detail.verdict;
      options.onFinished?.(detail);
    } else if (detail.status === "queued") {
      say(t("queued"), "queued");
      void pollQueue();
    } else {
      say(t("running"), "running");
    }
    client.start(); // a finished submission replays its stored log: the terminal and charts fill in
  })();

  return {
    submissionId,
    terminal,
    charts,
    stop() {
      stopped = true;
      window.clearTimeout(pollTimer);
      window.clearInterval(clock);
      client.stop();
    },
  };
}

/** Mount every `[data-island=submission]` under `root` that is not mounted yet. */
export function mountSubmissionIslands(root: ParentNode = document): void {
  for (const element of root.querySelectorAll<HTMLElement>('[data-island="submission"]')) {
    const id = Number(element.dataset.submissionId);
    if (!Number.isInteger(id) || id <= 0 || element.dataset.mounted === "1") continue;
    element.dataset.mounted = "1";
    mountSubmissionView(element, id);
  }
}
