// The submission editor: CodeMirror 6 laid over a <textarea data-code-editor>.
// The textarea stays the form field (hidden, kept in sync), so the form,
// autosave (static/js/editor.js) and the page without JavaScript keep working.
// Tab indents; Escape then Tab moves focus on (CodeMirror's own escape hatch).
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  highlightSpecialChars, drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching, indentOnInput, indentUnit, syntaxHighlighting, defaultHighlightStyle,
} from "@codemirror/language";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";

function enhance(textarea) {
  const label = textarea.id && document.querySelector('label[for="' + textarea.id + '"]');
  const contentAttributes = { spellcheck: "false", autocapitalize: "off", autocorrect: "off" };
  if (label) {
    if (!label.id) label.id = textarea.id + "-label";
    contentAttributes["aria-labelledby"] = label.id;
  }
  const describedBy = textarea.getAttribute("aria-describedby");
  if (describedBy) contentAttributes["aria-describedby"] = describedBy;

  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        python(),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of(contentAttributes),
        // Through the editor (it owns its element's class attribute), for the site's stylesheet.
        EditorView.editorAttributes.of({ class: "code-editor" }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          // The form's listeners (autosave) see the editor's edits as the textarea's.
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea.nextSibling);
  textarea.hidden = true;
  if (label) {
    // The label names the editor now; clicking it focuses the editor.
    label.removeAttribute("for");
    label.addEventListener("click", () => view.focus());
  }
  textarea.codeEditor = view;
  return view;
}

document.querySelectorAll("textarea[data-code-editor]").forEach(enhance);
window.FeedbackEditor = { enhance };
