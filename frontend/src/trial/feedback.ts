// The result of a finished submission: verdict with its plain explanation, the checks in order, the
// traceback, resources and the images the run produced. All text through textContent.

import { pick, t, verdictText } from "./i18n";

export interface CheckResult {
  key: string;
  passed: boolean;
  score: number;
  max_score: number;
  title: unknown;
  message: unknown;
}

export interface SubmissionDetail {
  id: number;
  exercise: string;
  mode: "run" | "submit";
  status: "queued" | "running" | "done";
  verdict: string;
  score: number | null;
  checks: CheckResult[];
  resources: Record<string, unknown>;
  device: string;
  message: Record<string, string>;
  traceback: string;
  artifacts: { name: string; media_type: string; data: string }[];
}

function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function number(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function resourceRows(detail: SubmissionDetail): [string, string][] {
  const r = detail.resources ?? {};
  const rows: [string, string][] = [];
  const wall = number(r.wall_seconds);
  if (wall !== null) rows.push([t("wallTime"), `${wall.toFixed(2)} s`]);
  const cpu = number(r.cpu_seconds);
  if (cpu !== null) rows.push([t("cpuTime"), `${cpu.toFixed(2)} s`]);
  const memory = number(r.peak_memory_mb);
  if (memory !== null) rows.push([t("peakMemory"), `${memory.toFixed(1)} MB`]);
  if (detail.device) rows.push([t("device"), detail.device.toUpperCase()]);
  const gpu = number(r.peak_gpu_memory_mb);
  if (gpu !== null) rows.push([t("peakGpuMemory"), `${gpu.toFixed(1)} MB`]);
  return rows;
}

/** Render the feedback of a finished submission into `element` (replacing what was there). */
export function renderFeedback(element: HTMLElement, detail: SubmissionDetail): void {
  const doc = element.ownerDocument;
  element.replaceChildren();
  element.hidden = false;

  const verdict = el(doc, "div", { class: `verdict verdict-${detail.verdict}`, "data-testid": "verdict",
                                  "data-verdict": detail.verdict });
  const headline = el(doc, "p", { class: "verdict-headline" });
  headline.append(el(doc, "strong", {}, verdictText(detail.verdict)));
  if (detail.score !== null && detail.score !== undefined) {
    headline.append(" · ", el(doc, "span", { class: "score" }, t("score", { score: Math.round(detail.score) })));
  }
  headline.append(" · ", el(doc, "span", { class: "mode" }, t(detail.mode === "run" ? "modeRun" : "modeSubmit")));
  verdict.append(headline);
  const explanation = pick(detail.message);
  if (explanation) verdict.append(el(doc, "p", { class: "verdict-message" }, explanation));
  element.append(verdict);

  element.append(el(doc, "h3", {}, t("checksHeading")));
  const checks = el(doc, "ol", { class: "checks", "data-testid": "checks" });
  // One reason shared by several checks (an error before any of them could run) is said once.
  const sharing = new Map<string, number>();
  for (const check of detail.checks ?? []) {
    const message = pick(check.message);
    if (message) sharing.set(message, (sharing.get(message) ?? 0) + 1);
  }
  const said = new Set<string>();
  for (const check of detail.checks ?? []) {
    const item = el(doc, "li", { "data-check": check.key, "data-passed": String(check.passed),
                                 class: check.passed ? "check passed" : "check failed" });
    const title = el(doc, "span", { class: "check-title" });
    title.append(
      el(doc, "span", { class: "check-mark", "aria-hidden": "true" }, check.passed ? "✓" : "✗"),
      " ",
      pick(check.title) || check.key,
      el(doc, "span", { class: "visually-hidden" }, ` (${t(check.passed ? "checkPassed" : "checkFailed")})`),
    );
    item.append(title, el(doc, "span", { class: "check-score" }, ` ${check.score}/${check.max_score}`));
    const message = pick(check.message);
    if (message && said.has(message)) {
      item.append(el(doc, "p", { class: "check-message same-reason" }, t("sameReason")));
    } else if (message) {
      said.add(message);
      const paragraph = el(doc, "p", { class: "check-message" }, message);
      const others = (sharing.get(message) ?? 1) - 1;
      if (others > 0) paragraph.append(el(doc, "span", { class: "shared-reason", "data-repeat": String(others + 1) },
                                          ` ${t("sharedReason", { n: others })}`));
      item.append(paragraph);
    }
    checks.append(item);
  }
  if ((detail.checks ?? []).length === 0) checks.append(el(doc, "li", { class: "empty" }, t("noChecks")));
  element.append(checks);

  if (detail.traceback) {
    element.append(el(doc, "h3", {}, t("tracebackHeading")));
    element.append(el(doc, "pre", { class: "traceback", "data-testid": "traceback" }, detail.traceback));
  }

  const rows = resourceRows(detail);
  if (rows.length > 0) {
    element.append(el(doc, "h3", {}, t("resourcesHeading")));
    const list = el(doc, "dl", { class: "resources", "data-testid": "resources" });
    for (const [name, value] of rows) list.append(el(doc, "dt", {}, name), el(doc, "dd", {}, value));
    element.append(list);
  }

  const images = (detail.artifacts ?? []).filter((a) => a.media_type === "image/png" && /^[A-Za-z0-9+/=\s]+$/.test(a.data));
  if (images.length > 0) {
    element.append(el(doc, "h3", {}, t("artifactsHeading")));
    const gallery = el(doc, "div", { class: "artifacts", "data-testid": "artifacts" });
    for (const artifact of images) {
      const figure = el(doc, "figure");
      const image = el(doc, "img", { alt: artifact.name, loading: "lazy" });
      image.src = `data:image/png;base64,${artifact.data.replace(/\s/g, "")}`;
      figure.append(image, el(doc, "figcaption", {}, artifact.name));
      gallery.append(figure);
    }
    element.append(gallery);
  }
}
