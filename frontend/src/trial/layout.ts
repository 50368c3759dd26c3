// The trial page's layout: the statement and the work side split by a handle that drags (and moves with
// the arrow keys), remembered in this browser; a full-screen mode for the editor; and on a phone three
// tabs (statement / code / results) instead of one long column, Run and Submit opening the results.

import { t } from "./i18n";

export const SPLIT_KEY = "huashen:trial-split";
export const SPLIT_MIN = 25; // percent of the row the statement takes, at least
export const SPLIT_MAX = 70;
const SPLIT_DEFAULT = 46;
const SPLIT_STEP = 2;
export const PHONE_QUERY = "(max-width: 600px)";

export type Tab = "statement" | "code" | "results";

/** A split percentage clamped into its bounds; anything unreadable is the default. */
export function clampSplit(value: unknown): number {
  const number = typeof value === "string" ? Number.parseFloat(value) : typeof value === "number" ? value : Number.NaN;
  if (!Number.isFinite(number)) return SPLIT_DEFAULT;
  return Math.min(SPLIT_MAX, Math.max(SPLIT_MIN, Math.round(number * 10) / 10));
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** `firstTab`: where a phone opens (the statement on a first visit, the code once there is a draft). */
export function mountLayout(root: HTMLElement, options: { firstTab?: Tab } = {}): void {
  const columns = root.querySelector<HTMLElement>(".trial-columns");
  const statement = root.querySelector<HTMLElement>(".trial-statement");
  const work = root.querySelector<HTMLElement>(".trial-work");
  const toolbar = root.querySelector<HTMLElement>(".toolbar");
  if (!columns || !statement || !work || !toolbar) return;
  mountSplit(columns, work);
  mountFullScreen(root, work, toolbar);
  mountTabs(root, columns, options.firstTab ?? "code");
}

function mountSplit(columns: HTMLElement, work: HTMLElement): void {
  const handle = document.createElement("div");
  handle.className = "split-handle";
  handle.dataset.testid = "split-handle";
  handle.tabIndex = 0;
  handle.setAttribute("role", "separator");
  handle.setAttribute("aria-orientation", "vertical");
  handle.setAttribute("aria-label", t("splitLabel"));
  handle.setAttribute("aria-valuemin", String(SPLIT_MIN));
  handle.setAttribute("aria-valuemax", String(SPLIT_MAX));
  handle.title = t("splitLabel");
  columns.insertBefore(handle, work);
  columns.classList.add("resizable");

  const apply = (percent: number, remember: boolean): void => {
    const value = clampSplit(percent);
    columns.style.setProperty("--statement-width", `${value}%`);
    handle.setAttribute("aria-valuenow", String(value));
    if (remember) storage()?.setItem(SPLIT_KEY, String(value));
  };
  apply(clampSplit(storage()?.getItem(SPLIT_KEY) ?? SPLIT_DEFAULT), false);

  handle.addEventListener("pointerdown", (down) => {
    down.preventDefault();
    handle.setPointerCapture(down.pointerId);
    columns.classList.add("dragging");
    const move = (event: PointerEvent): void => {
      const box = columns.getBoundingClientRect();
      if (box.width > 0) apply(((event.clientX - box.left) / box.width) * 100, false);
    };
    const up = (): void => {
      handle.removeEventListener("pointermove", move);
      columns.classList.remove("dragging");
      apply(Number(handle.getAttribute("aria-valuenow")), true);
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up, { once: true });
    handle.addEventListener("pointercancel", up, { once: true });
  });
  handle.addEventListener("keydown", (event) => {
    const now = Number(handle.getAttribute("aria-valuenow"));
    const next =
      event.key === "ArrowLeft" ? now - SPLIT_STEP
      : event.key === "ArrowRight" ? now + SPLIT_STEP
      : event.key === "Home" ? SPLIT_MIN
      : event.key === "End" ? SPLIT_MAX
      : null;
    if (next === null) return;
    event.preventDefault();
    apply(next, true);
  });
  handle.addEventListener("dblclick", () => apply(SPLIT_DEFAULT, true));
}

function mountFullScreen(root: HTMLElement, work: HTMLElement, toolbar: HTMLElement): void {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary full-screen-toggle";
  button.dataset.testid = "full-screen";
  button.setAttribute("aria-pressed", "false");
  button.textContent = t("fullScreen");
  const saveState = toolbar.querySelector('[data-role="save-state"]');
  toolbar.insertBefore(button, saveState);
  const set = (on: boolean): void => {
    work.classList.toggle("full-screen", on);
    document.body.classList.toggle("trial-full-screen", on);
    button.setAttribute("aria-pressed", String(on));
    button.textContent = t(on ? "exitFullScreen" : "fullScreen");
  };
  button.addEventListener("click", () => set(!work.classList.contains("full-screen")));
  // Escape leaves full screen unless the editor has the focus (there Escape lets Tab leave the editor).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !work.classList.contains("full-screen")) return;
    if ((event.target as HTMLElement | null)?.closest?.(".cm-editor")) return;
    set(false);
  });
  root.dataset.fullScreen = "ready";
}

function mountTabs(root: HTMLElement, columns: HTMLElement, first: Tab): void {
  const bar = document.createElement("div");
  bar.className = "trial-tabs";
  bar.dataset.testid = "trial-tabs";
  bar.setAttribute("role", "tablist");
  bar.setAttribute("aria-label", t("tabsLabel"));
  const tabs: Tab[] = ["statement", "code", "results"];
  const buttons = new Map<Tab, HTMLButtonElement>();
  for (const tab of tabs) {
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("role", "tab");
    button.dataset.tab = tab;
    button.textContent = t(`tab.${tab}`);
    button.addEventListener("click", () => select(tab));
    buttons.set(tab, button);
    bar.append(button);
  }
  columns.before(bar);
  const select = (tab: Tab): void => {
    root.dataset.tab = tab;
    for (const [name, button] of buttons) {
      button.setAttribute("aria-selected", String(name === tab));
      button.tabIndex = name === tab ? 0 : -1;
    }
  };
  select(first);
  // On a phone, Run and Submit show what they started.
  const phone = window.matchMedia(PHONE_QUERY);
  for (const name of ["run", "submit"]) {
    root.querySelector(`[data-testid="${name}"]`)?.addEventListener("click", () => {
      if (phone.matches) select("results");
    });
  }
}
