import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { describe, expect, it } from "vitest";

import { markPosition, showSyntaxError } from "./syntax_marker";

const DOC = "import torch\n\ndef f(x):\n    return x +\n";

function editor(): EditorView {
  const parent = document.createElement("div");
  document.body.append(parent);
  return new EditorView({ parent, state: EditorState.create({ doc: DOC }) });
}

describe("syntax marker", () => {
  it("places a 1-based line and column, clamped into the document", () => {
    const state = EditorState.create({ doc: DOC });
    const line4 = state.doc.line(4);
    expect(markPosition(state, { line: 4, column: 15, message: "" })).toEqual({
      line: 4,
      from: line4.from + 14,
      to: line4.from + 14,
    }); // just past the end of "    return x +": nothing to underline
    expect(markPosition(state, { line: 4, column: 5, message: "" }).from).toBe(line4.from + 4);
    expect(markPosition(state, { line: 99, column: 1, message: "" }).line).toBe(state.doc.lines);
    expect(markPosition(state, { line: 0, column: null, message: "" })).toEqual({ line: 1, from: 0, to: 12 });
  });

  it("shows the message under the line and moves the cursor there; an edit clears it", () => {
    const view = editor();
    showSyntaxError(view, { line: 4, column: 12, message: "第 4 行第 12 列有语法错误：invalid syntax" });
    const message = view.dom.querySelector("[data-testid=syntax-error]");
    expect(message?.textContent).toBe("第 4 行第 12 列有语法错误：invalid syntax");
    expect(view.dom.querySelector("[data-syntax-line='4']")).not.toBeNull();
    expect(view.dom.querySelector(".cm-syntax-error")?.textContent).toBe("x");
    expect(view.state.selection.main.head).toBe(view.state.doc.line(4).from + 11);
    // showing another error replaces the first
    showSyntaxError(view, { line: 1, column: null, message: "again" });
    expect(view.dom.querySelectorAll("[data-testid=syntax-error]")).toHaveLength(1);
    view.dispatch({ changes: { from: 0, insert: "#" } });
    expect(view.dom.querySelector("[data-testid=syntax-error]")).toBeNull();
    view.destroy();
  });
});
