import { beforeEach, describe, expect, it } from "vitest";

import { applyCell, applyPage } from "./matrix";
import { daySeconds } from "./days";

function table(): HTMLTableElement {
  document.body.innerHTML = `
    <table id="matrix"><tbody>
      <tr data-student="7"><th>alice</th><td class="passed-count">0</td>
        <td class="cell-none" data-exercise="1" data-state="none"><a href="#">·</a></td>
        <td class="cell-passed" data-exercise="2" data-state="passed"><a href="#">80</a></td>
      </tr>
    </tbody></table>`;
  return document.querySelector("table")!;
}

describe("applyCell", () => {
  let matrix: HTMLTableElement;
  beforeEach(() => {
    matrix = table();
  });

  it("recolours a cell, shows the score and recounts the row's passes", () => {
    expect(applyCell(matrix, { type: "cell", student: 7, exercise: 1, state: "passed", best_score: 95.4, attempts: 2 })).toBe(true);
    const td = matrix.querySelector<HTMLElement>('td[data-exercise="1"]')!;
    expect(td.className).toContain("cell-passed");
    expect(td.className).toContain("cell-high");
    expect(td.className).not.toContain("cell-none");
    expect(td.textContent).toBe("95");
    expect(matrix.querySelector(".passed-count")!.textContent).toBe("2");
  });

  it("ignores rows that are not on this page and unknown states", () => {
    expect(applyCell(matrix, { type: "cell", student: 8, exercise: 1, state: "passed", best_score: 1, attempts: 1 })).toBe(false);
    expect(applyCell(matrix, { type: "cell", student: 7, exercise: 1, state: "bogus" as never, best_score: 1, attempts: 1 })).toBe(false);
    expect(matrix.querySelector('td[data-exercise="1"]')!.textContent).toBe("·");
  });

  it("applies a page read after a reconnect", () => {
    applyPage(matrix, { rows: [{ student: 7, cells: [{ exercise: 2, state: "attempted", best_score: 10, attempts: 3 }] }] });
    const td = matrix.querySelector<HTMLElement>('td[data-exercise="2"]')!;
    expect(td.dataset.state).toBe("attempted");
    expect(matrix.querySelector(".passed-count")!.textContent).toBe("0");
  });
});

describe("daySeconds", () => {
  it("reads days as UTC midnights", () => {
    expect(daySeconds(["1970-01-02"])).toEqual([86400]);
  });
});
