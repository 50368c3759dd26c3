// The code editor: CodeMirror 6 with Python highlighting, the run/submit shortcuts, and a change hook
// for autosave.

import { indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";

export interface EditorOptions {
  doc: string;
  label: string;
  onChange: (code: string) => void;
  onRun: () => void;
  onSubmit: () => void;
}

export function createEditor(parent: HTMLElement, options: EditorOptions): EditorView {
  const shortcuts = Prec.highest(
    keymap.of([
      { key: "Mod-Shift-Enter", run: () => (options.onSubmit(), true) },
      { key: "Mod-Enter", run: () => (options.onRun(), true) },
    ]),
  );
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        shortcuts,
        basicSetup,
        keymap.of([indentWithTab]),
        python(),
        EditorView.contentAttributes.of({ "aria-label": options.label }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
}

export function replaceDocument(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
