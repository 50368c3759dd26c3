import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { clampSplit, mountLayout, SPLIT_KEY, SPLIT_MAX, SPLIT_MIN } from "./layout";

const PAGE = `
<div class="trial-page" data-island="trial">
  <div class="trial-columns">
    <section class="trial-statement">statement</section>
    <section class="trial-work">
      <div class="toolbar"><button data-testid="run">Run</button><button data-testid="submit">Submit</button>
        <span data-role="save-state"></span></div>
      <div class="editor" data-testid="editor"></div>
      <p class="status" data-testid="status"></p>
      <div class="run-view"></div>
    </section>
  </div>
</div>`;

function page(): HTMLElement {
  document.body.innerHTML = PAGE;
  return document.querySelector<HTMLElement>(".trial-page") as HTMLElement;
}

describe("clampSplit", () => {
  it("keeps the split within its bounds and reads what localStorage holds", () => {
    expect(clampSplit("40")).toBe(40);
    expect(clampSplit(5)).toBe(SPLIT_MIN);
    expect(clampSplit(99)).toBe(SPLIT_MAX);
    expect(clampSplit("garbage")).toBe(46);
    expect(clampSplit(null)).toBe(46);
  });
});

describe("mountLayout", () => {
  beforeEach(() => {
    document.documentElement.lang = "en";
    window.localStorage.clear();
  });
  afterEach(() => vi.restoreAllMocks());

  it("puts a handle between the columns that the arrow keys move, remembered for the next page", () => {
    const root = page();
    mountLayout(root);
    const handle = root.querySelector<HTMLElement>("[data-testid=split-handle]");
    expect(handle?.nextElementSibling?.classList.contains("trial-work")).toBe(true);
    expect(handle?.getAttribute("aria-valuenow")).toBe("46");
    handle?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    handle?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(window.localStorage.getItem(SPLIT_KEY)).toBe("50");
    const columns = root.querySelector<HTMLElement>(".trial-columns");
    expect(columns?.style.getPropertyValue("--statement-width")).toBe("50%");
    // the next page opens with it
    const again = page();
    mountLayout(again);
    expect(again.querySelector("[data-testid=split-handle]")?.getAttribute("aria-valuenow")).toBe("50");
  });

  it("turns full screen on and off from its button", () => {
    const root = page();
    mountLayout(root);
    const button = root.querySelector<HTMLButtonElement>("[data-testid=full-screen]");
    button?.click();
    expect(root.querySelector(".trial-work")?.classList.contains("full-screen")).toBe(true);
    expect(button?.getAttribute("aria-pressed")).toBe("true");
    expect(button?.textContent).toBe("Leave full screen");
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(root.querySelector(".trial-work")?.classList.contains("full-screen")).toBe(false);
  });

  it("opens a phone on the tab it is given, and Run shows the results", () => {
    vi.spyOn(window, "matchMedia").mockImplementation(
      (query: string) => ({ matches: query.includes("max-width"), media: query }) as MediaQueryList,
    );
    const root = page();
    mountLayout(root, { firstTab: "statement" });
    expect(root.dataset.tab).toBe("statement");
    const tabs = [...root.querySelectorAll<HTMLButtonElement>("[data-testid=trial-tabs] [role=tab]")];
    expect(tabs.map((tab) => [tab.textContent, tab.getAttribute("aria-selected")])).toEqual([
      ["Statement", "true"],
      ["Code", "false"],
      ["Results", "false"],
    ]);
    tabs[1].click();
    expect(root.dataset.tab).toBe("code");
    root.querySelector<HTMLButtonElement>("[data-testid=run]")?.click();
    expect(root.dataset.tab).toBe("results");
  });
});
