// The live progress matrix: cells change as submissions finish and reviews land, without a reload.
//
// The server pushes one message per changed cell on /ws/cohorts/<id>/matrix/ (a channel-layer group, so
// any web process may hold the socket). Messages sent while the socket was down are not replayed: after a
// reconnect the visible rows are read again from the matrix API, so nothing stays stale. A student who joins
// the cohort arrives as {"type": "student"} and gets a row of empty cells.

export interface CellMessage {
  type: "cell";
  student: number;
  exercise: number;
  state: "none" | "ran" | "attempted" | "passed";
  best_score: number;
  attempts: number;
}

export interface StudentMessage {
  type: "student";
  student: number;
  username: string;
}

const STATES = ["none", "ran", "attempted", "passed"] as const;

/** Update one cell (and its row's passed count) in the table; false when that row is not on this page. */
export function applyCell(table: HTMLTableElement, cell: CellMessage): boolean {
  const row = table.querySelector<HTMLTableRowElement>(`tr[data-student="${cell.student}"]`);
  const td = row?.querySelector<HTMLTableCellElement>(`td[data-exercise="${cell.exercise}"]`);
  if (!row || !td || !STATES.includes(cell.state)) return false;
  const changed = td.dataset.state !== cell.state || td.textContent?.trim() !== scoreText(cell);
  for (const state of STATES) td.classList.remove(`cell-${state}`);
  td.classList.add(`cell-${cell.state}`);
  td.classList.toggle("cell-high", cell.state === "passed" && cell.best_score >= 90);
  td.dataset.state = cell.state;
  const link = td.querySelector("a") ?? td;
  link.textContent = scoreText(cell);
  const passed = row.querySelectorAll('td[data-state="passed"]').length;
  const count = row.querySelector(".passed-count");
  if (count) count.textContent = String(passed);
  if (changed) {
    td.classList.add("cell-flash");
    window.setTimeout(() => td.classList.remove("cell-flash"), 1500);
  }
  return true;
}

function scoreText(cell: CellMessage): string {
  if (cell.state === "none") return "·";
  if (cell.state === "ran") return "▷";
  return String(Math.round(cell.best_score));
}

/** Add a row (every cell "none") for a student who joined the cohort; false when the row is already there
 * or the table has no trial columns to build it from. In name order on a page sorted by name, else last. */
export function addStudent(table: HTMLTableElement, message: StudentMessage): boolean {
  const body = table.tBodies[0];
  if (!body || table.querySelector(`tr[data-student="${message.student}"]`)) return false;
  const columns = [...table.querySelectorAll<HTMLTableCellElement>("thead th[data-exercise]")];
  const base = table.dataset.studentBase ?? "";
  const row = document.createElement("tr");
  row.dataset.student = String(message.student);
  const name = document.createElement("th");
  name.className = "student";
  name.scope = "row";
  const link = document.createElement("a");
  link.href = `${base}${message.student}/`;
  link.textContent = message.username;
  name.append(link);
  const passed = document.createElement("td");
  passed.className = "passed-count";
  passed.textContent = "0";
  row.append(name, passed);
  for (const column of columns) {
    const td = document.createElement("td");
    td.className = "cell-none";
    td.dataset.exercise = column.dataset.exercise ?? "";
    td.dataset.state = "none";
    const a = document.createElement("a");
    a.href = `${base}${message.student}/trials/${column.dataset.slug ?? ""}/`;
    a.title = `${table.dataset.textAttempts ?? ""}: 0`;
    a.textContent = "·";
    td.append(a);
    row.append(td);
  }
  body.querySelector('tr[data-role="empty"]')?.remove();
  let before: Element | null = null;
  if ((table.dataset.sort ?? "name") === "name") {
    for (const other of body.querySelectorAll<HTMLTableRowElement>("tr[data-student]")) {
      const otherName = other.querySelector("th.student")?.textContent?.trim() ?? "";
      if (otherName > message.username) {
        before = other;
        break;
      }
    }
  }
  body.insertBefore(row, before);
  row.classList.add("cell-flash");
  window.setTimeout(() => row.classList.remove("cell-flash"), 1500);
  return true;
}

interface MatrixPage {
  rows: { student: number; cells: { exercise: number; state: CellMessage["state"]; best_score: number; attempts: number }[] }[];
}

/** Apply a whole page from the matrix API (after a reconnect). */
export function applyPage(table: HTMLTableElement, page: MatrixPage): void {
  for (const row of page.rows) {
    for (const cell of row.cells) applyCell(table, { type: "cell", student: row.student, ...cell });
  }
}

/** The page's "N students" line counts one more: a student joined while it was open. Its text is the
 * page's own translated template (`data-text`, with {total}, {page} and {pages}). */
export function countJoined(line: HTMLElement | null): void {
  if (line === null) return;
  const total = Number(line.dataset.total) + 1;
  if (!Number.isFinite(total)) return;
  line.dataset.total = String(total);
  const template = line.dataset.text;
  if (!template) return;
  line.textContent = template
    .replace("{total}", String(total))
    .replace("{page}", line.dataset.page ?? "")
    .replace("{pages}", line.dataset.pages ?? "");
}

export function followMatrix(table: HTMLTableElement, status: HTMLElement | null): () => void {
  const cohort = table.dataset.cohort;
  const path = table.dataset.wsPath;
  if (!cohort || !path) return () => undefined;
  let socket: WebSocket | null = null;
  let stopped = false;
  let delay = 1000;
  let dropped = false;

  const say = (live: boolean): void => {
    if (status) status.textContent = (live ? status.dataset.textLive : status.dataset.textOffline) ?? "";
  };

  const resync = async (): Promise<void> => {
    const query = new URLSearchParams(window.location.search);
    const url = `/api/v1/cohorts/${cohort}/matrix/?${query.toString()}`;
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) applyPage(table, (await response.json()) as MatrixPage);
  };

  const open = (): void => {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}${path}`);
    socket.addEventListener("open", () => {
      delay = 1000;
      say(true);
      if (dropped) void resync().catch(() => undefined);
    });
    socket.addEventListener("message", (event: MessageEvent<string>) => {
      try {
        const message = JSON.parse(event.data) as CellMessage | StudentMessage;
        if (message.type === "cell") applyCell(table, message);
        else if (message.type === "student" && addStudent(table, message)) {
          countJoined(document.querySelector<HTMLElement>('[data-role="matrix-total"]'));
        }
      } catch {
        // not ours to understand: ignore
      }
    });
    socket.addEventListener("close", (event: CloseEvent) => {
      if (stopped || event.code === 4404) {
        if (status) status.textContent = "";
        return;
      }
      dropped = true;
      say(false);
      window.setTimeout(open, delay);
      delay = Math.min(delay * 2, 30_000);
    });
  };
  open();
  return () => {
    stopped = true;
    socket?.close();
  };
}
