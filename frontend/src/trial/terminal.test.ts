import { beforeEach, describe, expect, it } from "vitest";

import { applySgr, Terminal, xterm256 } from "./terminal";

function lines(box: HTMLElement): string[] {
  return [...box.querySelectorAll<HTMLElement>(".term-line")].map((line) => line.textContent ?? "");
}

describe("Terminal", () => {
  let box: HTMLElement;
  let terminal: Terminal;

  beforeEach(() => {
    document.body.innerHTML = "";
    box = document.createElement("div");
    document.body.append(box);
    terminal = new Terminal(box);
  });

  it("splits lines on \\n and marks each with the seq of the event that began it", () => {
    terminal.write("one\ntwo\n", 1);
    terminal.write("three", 2);
    expect(lines(box)).toEqual(["one", "two", "three"]);
    expect([...box.querySelectorAll<HTMLElement>(".term-line")].map((l) => l.dataset.seq)).toEqual(["1", "1", "2"]);
  });

  it("returns to the line start on \\r so a progress bar overwrites itself", () => {
    terminal.write(" 10%|#         | 1/10\r", 1);
    terminal.write(" 50%|#####     | 5/10\r", 2);
    terminal.write("100%|##########| 10/10\n", 3);
    terminal.write("done\n", 4);
    expect(lines(box)).toEqual(["100%|##########| 10/10", "done"]);
  });

  it("keeps the tail of a longer line that a shorter one overwrote, as a terminal does", () => {
    terminal.write("abcdef\rXY", 1);
    expect(terminal.text()).toBe("XYcdef");
    terminal.write("\x1b[K", 2); // erase to the end of the line
    expect(terminal.text()).toBe("XY");
  });

  it("shows a repeated traceback once, counting the copies", () => {
    const traceback =
      'Traceback (most recent call last):\n  File "solution.py", line 5, in describe\n' +
      "    raise NotImplementedError\nNotImplementedError\n";
    terminal.write("loading\n", 1, "stdout");
    for (let seq = 2; seq < 26; seq++) terminal.write(traceback, seq, "stderr");
    terminal.write("solution.py defines no function shared_tensor(): the trial calls it\n", 26, "stderr");
    terminal.write("solution.py defines no function shared_tensor(): the trial calls it\n", 27, "stderr");
    terminal.write("done\n", 28, "stdout");
    expect(lines(box)).toEqual([
      "loading",
      "Traceback (most recent call last):",
      '  File "solution.py", line 5, in describe',
      "    raise NotImplementedError",
      "NotImplementedError ×24",
      "solution.py defines no function shared_tensor(): the trial calls it ×2",
      "done",
    ]);
    expect(box.querySelector<HTMLElement>(".term-repeat")?.dataset.repeat).toBe("24");
  });

  it("keeps distinct tracebacks, a traceback split across events, and repeated stdout", () => {
    terminal.write("Traceback (most recent call last):\n  File ", 1, "stderr");
    terminal.write('"solution.py", line 2\nValueError: one\n', 2, "stderr");
    terminal.write('Traceback (most recent call last):\n  File "solution.py", line 2\nValueError: two\n', 3, "stderr");
    terminal.write('Traceback (most recent call last):\n  File "solution.py", line 2\nValueError: one\n', 4, "stderr");
    terminal.write("epoch\nepoch\n", 5, "stdout");
    expect(lines(box)).toEqual([
      "Traceback (most recent call last):",
      '  File "solution.py", line 2',
      "ValueError: one ×2",
      "Traceback (most recent call last):",
      '  File "solution.py", line 2',
      "ValueError: two",
      "epoch",
      "epoch",
    ]);
  });

  it("folds nothing when asked not to", () => {
    const plain = new Terminal(box, { foldRepeats: false });
    plain.write("oops\noops\n", 1, "stderr");
    expect(lines(box)).toEqual(["oops", "oops"]);
  });

  it("keeps empty lines between lines", () => {
    terminal.write("a\n\nb\n", 1);
    expect(lines(box)).toEqual(["a", "", "b"]);
  });

  it("treats \\r\\n as one line break", () => {
    terminal.write("a\r\nb\r\n", 1);
    expect(lines(box)).toEqual(["a", "b"]);
  });

  it("shows HTML as text and never creates elements from it", () => {
    terminal.write('<img src=x onerror="alert(1)"><script>alert(2)</script>\n', 1);
    expect(box.querySelector("img")).toBeNull();
    expect(box.querySelector("script")).toBeNull();
    expect(lines(box)[0]).toBe('<img src=x onerror="alert(1)"><script>alert(2)</script>');
  });

  it("colours text with ANSI SGR codes and drops the escape characters", () => {
    terminal.write("\x1b[1;31mred bold\x1b[0m plain \x1b[38;5;208morange\x1b[0m\n", 1);
    const spans = [...box.querySelectorAll<HTMLElement>(".term-line")[0].querySelectorAll("span")];
    expect(spans.map((s) => s.textContent)).toEqual(["red bold", " plain ", "orange"]);
    expect(spans[0].className).toContain("ansi-fg-1");
    expect(spans[0].className).toContain("ansi-bold");
    expect(spans[1].className).toBe("");
    expect(spans[2].style.color).toBe("rgb(255, 135, 0)");
    expect(terminal.text()).not.toContain("\x1b");
  });

  it("finishes an escape sequence split across two events", () => {
    terminal.write("a\x1b[3", 1);
    terminal.write("2mgreen\x1b[0m", 2);
    expect(terminal.text()).toBe("agreen");
    const green = [...box.querySelectorAll("span")].find((s) => s.textContent === "green");
    expect(green?.className).toContain("ansi-fg-2");
  });

  it("marks stderr and platform notices", () => {
    terminal.write("oops\n", 1, "stderr");
    terminal.notice("… 3 events omitted …", 2);
    expect(box.querySelector(".term-stderr")?.textContent).toBe("oops");
    expect(box.querySelector(".term-notice")?.textContent).toBe("… 3 events omitted …");
  });
});

describe("SGR", () => {
  const plain = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, stream: "stdout" as const };

  it("handles bright, background, true colour and reset", () => {
    expect(applySgr(plain, "92").fg).toBe(10);
    expect(applySgr(plain, "44").bg).toBe(4);
    expect(applySgr(plain, "38;2;1;2;3").fg).toBe("rgb(1, 2, 3)");
    expect(applySgr(applySgr(plain, "1;4;35"), "")).toEqual(plain);
  });

  it("maps the 256-colour cube and grey ramp", () => {
    expect(xterm256(16)).toBe("rgb(0, 0, 0)");
    expect(xterm256(231)).toBe("rgb(255, 255, 255)");
    expect(xterm256(232)).toBe("rgb(8, 8, 8)");
    expect(applySgr(plain, "38;5;9").fg).toBe(9);
  });
});
