// A small terminal for a run's output: "\n" starts a line, "\r" returns to its start so the next text
// overwrites it (tqdm's bars redraw in place), ANSI SGR sets colours (16, 256 and true colour), bold,
// dim, italic and underline; "ESC[K" clears to the end of the line; other escape sequences are dropped.
// Text reaches the page only through textContent: HTML in the output is shown, never parsed.
// A repeated error on stderr is shown once: a Python traceback (from its "Traceback" line to the
// exception line) or an error line seen before is dropped, and its first copy counts "×N" (a probe that
// calls a function 24 times would otherwise print 24 copies of one NotImplementedError).

export interface Style {
  fg: number | string | null; // 0-15: a palette class; a string: an rgb() colour
  bg: number | string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  stream: "stdout" | "stderr" | "notice";
}

interface Cell {
  ch: string;
  style: Style;
}

interface Line {
  cells: Cell[];
  element: HTMLElement;
}

const PLAIN: Style = {
  fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, stream: "stdout",
};

/** The rgb() colour of a 256-colour index from 16 up (the 6×6×6 cube, then the grey ramp). */
export function xterm256(index: number): string {
  if (index >= 232) {
    const level = 8 + (index - 232) * 10;
    return `rgb(${level}, ${level}, ${level})`;
  }
  const cube = index - 16;
  const steps = [0, 95, 135, 175, 215, 255];
  return `rgb(${steps[Math.floor(cube / 36) % 6]}, ${steps[Math.floor(cube / 6) % 6]}, ${steps[cube % 6]})`;
}

function colour(index: number): number | string {
  return index < 16 ? index : xterm256(index);
}

/** The style after one SGR sequence's parameters ("1;31", "38;5;208", "" = reset). */
export function applySgr(style: Style, params: string): Style {
  const next = { ...style };
  const codes = params === "" ? [0] : params.split(";").map((part) => (part === "" ? 0 : Number(part)));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (!Number.isFinite(code)) continue;
    if (code === 0) Object.assign(next, { ...PLAIN, stream: style.stream });
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 22) next.bold = next.dim = false;
    else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code >= 30 && code <= 37) next.fg = code - 30;
    else if (code >= 90 && code <= 97) next.fg = code - 90 + 8;
    else if (code === 39) next.fg = null;
    else if (code >= 40 && code <= 47) next.bg = code - 40;
    else if (code >= 100 && code <= 107) next.bg = code - 100 + 8;
    else if (code === 49) next.bg = null;
    else if (code === 38 || code === 48) {
      let value: number | string | null = null;
      if (codes[i + 1] === 5 && i + 2 < codes.length) {
        value = colour(Math.min(255, Math.max(0, codes[i + 2])));
        i += 2;
      } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
        const [r, g, b] = codes.slice(i + 2, i + 5).map((n) => Math.min(255, Math.max(0, n)));
        value = `rgb(${r}, ${g}, ${b})`;
        i += 4;
      } else {
        break; // malformed: ignore the rest of this sequence
      }
      if (code === 38) next.fg = value;
      else next.bg = value;
    }
  }
  return next;
}

function sameStyle(a: Style, b: Style): boolean {
  return a.fg === b.fg && a.bg === b.bg && a.bold === b.bold && a.dim === b.dim && a.italic === b.italic
    && a.underline === b.underline && a.stream === b.stream;
}

// An escape sequence: CSI (ESC [ params final), OSC (ESC ] … BEL or ESC \), or a two-character escape.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b(?:\[([0-9;?]*)([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/y;
// eslint-disable-next-line no-control-regex
const INCOMPLETE = /\x1b(?:\[[0-9;?]*|\][^\x07\x1b]*)?$/;

const TRACEBACK_HEADER = "Traceback (most recent call last):";

function lineText(line: Line): string {
  return line.cells.map((cell) => cell.ch).join("");
}

export class Terminal {
  readonly element: HTMLElement;
  private lines: Line[] = [];
  private readonly foldRepeats: boolean;
  private repeats = new Map<string, { last: Line; count: number }>();
  private traceback: Line[] | null = null; // the lines of a traceback being written
  private column = 0;
  private style: Style = { ...PLAIN };
  private pending = "";
  private dirty = new Set<Line>();
  private lineEnded = false; // a "\n" was written: the next text starts a new line (made only then)
  private readonly maxLines: number;

  constructor(element: HTMLElement, options: { maxLines?: number; foldRepeats?: boolean } = {}) {
    this.element = element;
    this.maxLines = options.maxLines ?? 20000;
    this.foldRepeats = options.foldRepeats ?? true;
  }

  get lineCount(): number {
    return this.lines.length;
  }

  /** Write one event's text. `seq` marks the lines this event begins (data-seq). */
  write(text: string, seq: number, stream: "stdout" | "stderr" | "notice" = "stdout"): void {
    let input = this.pending + text;
    this.pending = "";
    const incomplete = INCOMPLETE.exec(input);
    if (incomplete !== null && incomplete[0] !== "") {
      this.pending = incomplete[0]; // an escape split across two events: finish it with the next one
      input = input.slice(0, incomplete.index);
    }
    if (this.style.stream !== stream) this.style = { ...this.style, stream };
    let i = 0;
    while (i < input.length) {
      const ch = input[i];
      if (ch === "\x1b") {
        ESCAPE.lastIndex = i;
        const match = ESCAPE.exec(input);
        if (match === null) {
          i += 1; // a lone ESC: drop it
          continue;
        }
        if (match[2] === "m") this.style = applySgr(this.style, match[1] ?? "");
        else if (match[2] === "K") this.eraseToEnd(seq);
        i = ESCAPE.lastIndex;
        continue;
      }
      if (ch === "\n") {
        this.newLine(seq);
      } else if (ch === "\r") {
        this.column = 0;
      } else if (ch === "\b") {
        this.column = Math.max(0, this.column - 1);
      } else if (ch === "\t") {
        const spaces = 8 - (this.column % 8);
        for (let s = 0; s < spaces; s++) this.put(" ", seq);
      } else if (ch >= " " || ch > "\x7f") {
        this.put(ch, seq);
      }
      i += 1;
    }
    this.flush();
  }

  /** A line of its own (a platform notice), in its own style. */
  notice(text: string, seq: number): void {
    if (this.lines.length > 0 && !this.lineEnded) this.newLine(seq);
    const saved = this.style;
    this.style = { ...PLAIN, stream: "notice" };
    this.write(text + "\n", seq, "notice");
    this.style = saved;
  }

  clear(): void {
    this.lines = [];
    this.column = 0;
    this.style = { ...PLAIN };
    this.pending = "";
    this.lineEnded = false;
    this.dirty.clear();
    this.repeats.clear();
    this.traceback = null;
    this.element.replaceChildren();
  }

  /** The visible text, lines joined by "\n" (what a reader sees, for tests and copying). */
  text(): string {
    return this.lines.map((line) => line.cells.map((cell) => cell.ch).join("")).join("\n");
  }

  private current(seq: number): Line {
    if (this.lines.length === 0 || this.lineEnded) {
      this.lineEnded = false;
      this.addLine(seq);
    }
    return this.lines[this.lines.length - 1];
  }

  private addLine(seq: number): Line {
    const element = this.element.ownerDocument.createElement("div");
    element.className = "term-line";
    element.dataset.seq = String(seq);
    const line = { cells: [], element };
    this.lines.push(line);
    this.element.append(element);
    if (this.lines.length > this.maxLines) {
      const dropped = this.lines.shift();
      dropped?.element.remove();
    }
    return line;
  }

  private newLine(seq: number): void {
    const line = this.current(seq); // an empty line ("\n\n") still takes its place
    this.lineEnded = true;
    this.column = 0;
    if (this.foldRepeats) this.completed(line);
  }

  /** A line just ended: gather a traceback's lines, and drop an error block or line seen before. */
  private completed(line: Line): void {
    const text = lineText(line);
    if (this.traceback !== null) {
      this.traceback.push(line);
      // The exception line ends it: the first line after the header that is not indented.
      if (text.trim() !== "" && !/^\s/.test(text)) {
        const block = this.traceback;
        this.traceback = null;
        this.fold(block);
      }
      return;
    }
    if (line.cells[0]?.style.stream !== "stderr" || text.trim() === "") return;
    if (text === TRACEBACK_HEADER) this.traceback = [line];
    else this.fold([line]);
  }

  private fold(block: Line[]): void {
    const key = block.map(lineText).join("\n");
    const first = this.repeats.get(key);
    if (first === undefined) {
      this.repeats.set(key, { last: block[block.length - 1], count: 1 });
      return;
    }
    first.count += 1;
    for (const line of block) {
      line.element.remove();
      this.dirty.delete(line);
    }
    const dropped = new Set(block);
    this.lines = this.lines.filter((line) => !dropped.has(line));
    let badge = first.last.element.querySelector<HTMLElement>(".term-repeat");
    if (badge === null) {
      badge = this.element.ownerDocument.createElement("span");
      badge.className = "term-repeat";
      first.last.element.append(badge);
    }
    badge.dataset.repeat = String(first.count);
    badge.textContent = ` ×${first.count}`;
  }

  private put(ch: string, seq: number): void {
    const line = this.current(seq);
    const cell = { ch, style: this.style };
    if (this.column < line.cells.length) line.cells[this.column] = cell;
    else {
      while (line.cells.length < this.column) line.cells.push({ ch: " ", style: this.style });
      line.cells.push(cell);
    }
    this.column += 1;
    this.dirty.add(line);
  }

  private eraseToEnd(seq: number): void {
    const line = this.current(seq);
    line.cells.length = Math.min(line.cells.length, this.column);
    this.dirty.add(line);
  }

  private flush(): void {
    for (const line of this.dirty) renderLine(line);
    this.dirty.clear();
  }
}

function renderLine(line: Line): void {
  const doc = line.element.ownerDocument;
  const spans: HTMLElement[] = [];
  let start = 0;
  for (let i = 1; i <= line.cells.length; i++) {
    if (i === line.cells.length || !sameStyle(line.cells[i].style, line.cells[start].style)) {
      const span = doc.createElement("span");
      span.textContent = line.cells.slice(start, i).map((cell) => cell.ch).join("");
      styleSpan(span, line.cells[start].style);
      spans.push(span);
      start = i;
    }
  }
  line.element.replaceChildren(...spans);
}

function styleSpan(span: HTMLElement, style: Style): void {
  const classes: string[] = [];
  if (style.stream !== "stdout") classes.push(`term-${style.stream}`);
  if (typeof style.fg === "number") classes.push(`ansi-fg-${style.fg}`);
  else if (typeof style.fg === "string") span.style.color = style.fg;
  if (typeof style.bg === "number") classes.push(`ansi-bg-${style.bg}`);
  else if (typeof style.bg === "string") span.style.backgroundColor = style.bg;
  if (style.bold) classes.push("ansi-bold");
  if (style.dim) classes.push("ansi-dim");
  if (style.italic) classes.push("ansi-italic");
  if (style.underline) classes.push("ansi-underline");
  if (classes.length > 0) span.className = classes.join(" ");
}
