// The marker the editor shows for a syntax error the platform found before grading: the line tinted,
// the column underlined and the message under the line. Installed on first use (no change to the editor's
// setup); any edit clears it, since it describes the text as it was sent.

import { type EditorState, type Range, StateEffect, StateField } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView, WidgetType } from "@codemirror/view";

export interface SyntaxMark {
  line: number; // 1-based
  column: number | null; // 1-based; null: the whole line
  message: string;
}

const setMark = StateEffect.define<SyntaxMark | null>();

class MessageWidget extends WidgetType {
  constructor(private readonly message: string) {
    super();
  }

  eq(other: MessageWidget): boolean {
    return other.message === this.message;
  }

  toDOM(): HTMLElement {
    const box = document.createElement("div");
    box.className = "cm-syntax-error-message";
    box.dataset.testid = "syntax-error";
    box.setAttribute("role", "alert");
    box.textContent = this.message;
    return box;
  }
}

/** The document position of a 1-based line and column, clamped into the document. */
export function markPosition(state: EditorState, mark: SyntaxMark): { line: number; from: number; to: number } {
  const lineNumber = Math.min(Math.max(1, Math.trunc(mark.line)), state.doc.lines);
  const line = state.doc.line(lineNumber);
  if (mark.column === null) return { line: lineNumber, from: line.from, to: line.to };
  const from = line.from + Math.min(Math.max(0, Math.trunc(mark.column) - 1), line.length);
  return { line: lineNumber, from, to: Math.min(from + 1, line.to) };
}

function decorations(state: EditorState, mark: SyntaxMark): DecorationSet {
  const { line, from, to } = markPosition(state, mark);
  const start = state.doc.line(line);
  const ranges: Range<Decoration>[] = [
    Decoration.line({ class: "cm-syntax-error-line", attributes: { "data-syntax-line": String(line) } }).range(
      start.from,
    ),
    Decoration.widget({ widget: new MessageWidget(mark.message), block: true, side: 1 }).range(start.to),
  ];
  if (to > from) ranges.push(Decoration.mark({ class: "cm-syntax-error" }).range(from, to));
  return Decoration.set(ranges, true);
}

const markField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, transaction) {
    for (const effect of transaction.effects) {
      if (effect.is(setMark)) return effect.value === null ? Decoration.none : decorations(transaction.state, effect.value);
    }
    return transaction.docChanged ? Decoration.none : value;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/** Mark `mark` in the editor, put the cursor there and scroll to it. */
export function showSyntaxError(view: EditorView, mark: SyntaxMark): void {
  if (view.state.field(markField, false) === undefined) {
    view.dispatch({ effects: StateEffect.appendConfig.of(markField) });
  }
  const { from } = markPosition(view.state, mark);
  view.dispatch({
    effects: [setMark.of(mark), EditorView.scrollIntoView(from, { y: "center" })],
    selection: { anchor: from },
  });
}

export function clearSyntaxError(view: EditorView): void {
  if (view.state.field(markField, false) !== undefined) view.dispatch({ effects: setMark.of(null) });
}
