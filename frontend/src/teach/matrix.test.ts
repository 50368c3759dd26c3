import { beforeEach, describe, expect, it } from "vitest";

import { addStudent, applyCell, applyPage, countJoined } from "./matrix";
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

function tableWithColumns(sort: string, students: string[]): HTMLTableElement {
  const rows = students
    .map((name, i) => `<tr data-student="${i + 1}"><th class="student"><a href="#">${name}</a></th><td class="passed-count">0</td></tr>`)
    .join("");
  document.body.innerHTML = `
    <table id="matrix" data-sort="${sort}" data-student-base="/teach/cohorts/3/students/" data-text-attempts="Attempts">
      <thead><tr><th class="student">Student</th><th>Passed</th>
        <th data-exercise="11" data-slug="one"><a>1.1</a></th><th data-exercise="12" data-slug="two"><a>1.2</a></th></tr></thead>
      <tbody>${rows || '<tr data-role="empty"><td colspan="4">No students yet.</td></tr>'}</tbody>
    </table>`;
  return document.querySelector("table")!;
}

describe("a student who joins", () => {
  it("gets a row of empty cells, linked, that later cells update", () => {
    const matrix = tableWithColumns("name", []);
    expect(addStudent(matrix, { type: "student", student: 42, username: "zoe" })).toBe(true);
    const row = matrix.querySelector<HTMLTableRowElement>('tr[data-student="42"]')!;
    expect(matrix.querySelector('tr[data-role="empty"]')).toBeNull();
    expect(row.querySelector("th a")!.getAttribute("href")).toBe("/teach/cohorts/3/students/42/");
    const cells = [...row.querySelectorAll<HTMLElement>("td[data-exercise]")];
    expect(cells.map((td) => [td.dataset.exercise, td.dataset.state, td.textContent])).toEqual([
      ["11", "none", "·"],
      ["12", "none", "·"],
    ]);
    expect(cells[1].querySelector("a")!.getAttribute("href")).toBe("/teach/cohorts/3/students/42/trials/two/");
    expect(applyCell(matrix, { type: "cell", student: 42, exercise: 12, state: "ran", best_score: 0, attempts: 0 })).toBe(true);
    expect(cells[1].textContent).toBe("▷");
    expect(cells[1].className).toContain("cell-ran");
  });

  it("is placed in name order on a page sorted by name, last otherwise, and only once", () => {
    let matrix = tableWithColumns("name", ["alice", "carl"]);
    addStudent(matrix, { type: "student", student: 9, username: "bob" });
    expect([...matrix.querySelectorAll("tbody th.student")].map((th) => th.textContent)).toEqual(["alice", "bob", "carl"]);
    expect(addStudent(matrix, { type: "student", student: 9, username: "bob" })).toBe(false);
    expect(matrix.querySelectorAll('tr[data-student="9"]').length).toBe(1);
    matrix = tableWithColumns("activity", ["carl", "alice"]);
    addStudent(matrix, { type: "student", student: 9, username: "bob" });
    expect([...matrix.querySelectorAll("tbody th.student")].map((th) => th.textContent)).toEqual(["carl", "alice", "bob"]);
  });
});

describe("the student count", () => {
  it("counts one more in the page's own words when a student joins", () => {
    const line = document.createElement("p");
    line.dataset.total = "3";
    line.dataset.page = "1";
    line.dataset.pages = "1";
    line.dataset.text = "共 {total} 名学生 · 第 {page} / {pages} 页";
    line.textContent = "共 3 名学生 · 第 1 / 1 页";
    countJoined(line);
    expect(line.textContent).toBe("共 4 名学生 · 第 1 / 1 页");
    countJoined(line);
    expect(line.dataset.total).toBe("5");
    expect(line.textContent).toBe("共 5 名学生 · 第 1 / 1 页");
  });

  it("leaves a page without the line alone", () => {
    expect(() => countJoined(null)).not.toThrow();
  });
});
