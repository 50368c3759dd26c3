// The coach's findings on a finished submission, each beside the failed check it most likely explains
// (GET /api/v1/submissions/<id>/coach/: `explains` names the check keys). Advice only; a finding that explains
// no failed check is not repeated here (the editor lists every finding). Text only through textContent.

import { api } from "./api";
import type { CoachAnswer, CoachFinding } from "./coach";
import { type Language, pageLanguage, pick } from "./i18n";

export interface BesideFinding extends CoachFinding {
  explains: string[];
}

/** What the finished run itself says (GET …/coach/ `runtime`): its traceback, metrics and resources. */
export interface RuntimeDiagnosis {
  rule: string;
  line: number | null;
  title: { zh: string; en: string };
  why: { zh: string; en: string };
}

const strings = {
  zh: { likely: "可能的原因", line: "第 {line} 行", learn: "学习这一点的试炼", run: "这次运行说明了什么" },
  en: { likely: "Likely causes", line: "Line {line}", learn: "The trial that teaches it", run: "What this run shows" },
} as const;

/** Put the run's diagnoses at the top of `feedback` (replacing an earlier list); returns how many. */
export function placeRuntime(feedback: HTMLElement, diagnoses: readonly RuntimeDiagnosis[],
                             language: Language = pageLanguage()): number {
  const doc = feedback.ownerDocument;
  const words = strings[language];
  feedback.querySelector(".coach-runtime")?.remove();
  const valid = diagnoses.filter((item) => typeof item?.rule === "string" && item.title && item.why);
  if (valid.length === 0) return 0;
  const box = doc.createElement("section");
  box.className = "coach-runtime";
  box.dataset.testid = "run-diagnoses";
  const heading = doc.createElement("h3");
  heading.textContent = words.run;
  const list = doc.createElement("ul");
  for (const diagnosis of valid) {
    const entry = doc.createElement("li");
    entry.dataset.rule = diagnosis.rule;
    const head = doc.createElement("strong");
    const where = typeof diagnosis.line === "number" ? `${words.line.replace("{line}", String(diagnosis.line))} · ` : "";
    head.textContent = `${where}${pick(diagnosis.title, language)}`;
    const why = doc.createElement("p");
    why.textContent = pick(diagnosis.why, language);
    entry.append(head, why);
    list.append(entry);
  }
  box.append(heading, list);
  feedback.prepend(box);
  return valid.length;
}

/** Put each finding under the `li[data-check=key]` of every failed check it explains; returns how many were placed. */
export function placeBesideChecks(feedback: HTMLElement, findings: readonly BesideFinding[],
                                  language: Language = pageLanguage()): number {
  const doc = feedback.ownerDocument;
  const words = strings[language];
  let placed = 0;
  for (const item of feedback.querySelectorAll<HTMLElement>('li[data-check][data-passed="false"]')) {
    const key = item.dataset.check ?? "";
    const mine = findings.filter((finding) => Array.isArray(finding.explains) && finding.explains.includes(key));
    item.querySelector(".coach-beside")?.remove();
    if (mine.length === 0) continue;
    const list = doc.createElement("ul");
    list.className = "coach-beside";
    list.dataset.testid = "check-coach";
    list.setAttribute("aria-label", words.likely);
    for (const finding of mine) {
      const entry = doc.createElement("li");
      entry.dataset.rule = finding.rule;
      const head = doc.createElement("strong");
      head.textContent = `${words.line.replace("{line}", String(finding.line))} · ${pick(finding.title, language)}`;
      const why = doc.createElement("p");
      why.textContent = `${pick(finding.why, language)} `;
      const link = doc.createElement("a");
      // Only a path on this site: the API builds it, but a link never leaves the page's origin.
      link.href = finding.trial.url.startsWith("/") && !finding.trial.url.startsWith("//") ? finding.trial.url : "#";
      link.textContent = words.learn;
      why.append(link);
      entry.append(head, why);
      list.append(entry);
      placed += 1;
    }
    item.append(list);
  }
  return placed;
}

/** Ask the coach about submission `id` and place its findings beside the failed checks in `feedback`. */
export async function showCoachBesideChecks(feedback: HTMLElement, submissionId: number): Promise<number> {
  const result = await api<CoachAnswer & { findings: BesideFinding[]; runtime?: RuntimeDiagnosis[] }>(
    `/api/v1/submissions/${submissionId}/coach/`,
  );
  if (!result.ok || result.data === null || !Array.isArray(result.data.findings)) return 0;
  if (Array.isArray(result.data.runtime)) placeRuntime(feedback, result.data.runtime);
  return placeBesideChecks(feedback, result.data.findings);
}
