// The live progress matrix: cells change as submissions finish and reviews land, without a reload.
//
// The server pushes one message per changed cell on /ws/cohorts/<id>/matrix/ (a channel-layer group, so
// any web process may hold the socket). Messages sent while the socket was down are not replayed: after a
// reconnect the visible rows are read again from the matrix API, so nothing stays stale.

export interface CellMessage {
  type: "cell";
  student: number;
  exercise: number;
  state: "none" | "attempted" | "passed";
  best_score: number;
  attempts: number;
}

const STATES = ["none", "attempted", "passed"] as const;

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
  return cell.state === "none" ? "·" : String(Math.round(cell.best_score));
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
        const message = JSON.parse(event.data) as CellMessage;
        if (message.type === "cell") applyCell(table, message);
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
