// Arguments of the five commands when the user runs them from the palette or
// the editor's context menu (the server's code actions carry their own).
// Positions are LSP positions in the client's encoding (utf-16 in VS Code).

import { CommandArguments, CommandId, Diagnostic, Range } from './protocol';

export interface EditorContext {
  uri: string;
  selection: Range;              // may be empty (the cursor)
  diagnostics: Diagnostic[];     // of the document
}

export type Built = { ok: true; args: CommandArguments } | { ok: false; error: string };

export const kCommandTitles: Record<CommandId, string> = {
  'beluga.explain': 'Explain (beluga)',
  'beluga.fix': 'Fix this diagnostic (beluga)',
  'beluga.implement': 'Implement / complete this (beluga)',
  'beluga.writeTests': 'Write tests for this (beluga)',
  'beluga.ask': 'Ask beluga…',
};

function before(a: { line: number; character: number }, b: { line: number; character: number }): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

export function is_empty(r: Range): boolean {
  return r.start.line === r.end.line && r.start.character === r.end.character;
}

// Whether two ranges share a position; an empty selection touches the
// ranges it lies in or at the edge of.
export function intersects(a: Range, b: Range): boolean {
  return !before(a.end, b.start) && !before(b.end, a.start);
}

// The diagnostic to fix: among those touching the selection (or, for an
// empty selection, on the cursor's line), the most severe (1 = error), then
// the first in the document.
export function pick_diagnostic(selection: Range, diagnostics: Diagnostic[]): Diagnostic | undefined {
  const probe: Range = is_empty(selection)
    ? { start: { line: selection.start.line, character: 0 },
        end: { line: selection.start.line, character: Number.MAX_SAFE_INTEGER } }
    : selection;
  const touching = diagnostics.filter((d) => intersects(d.range, probe));
  touching.sort((x, y) => (x.severity ?? 1) - (y.severity ?? 1) ||
                          x.range.start.line - y.range.start.line ||
                          x.range.start.character - y.range.start.character);
  return touching[0];
}

// An empty selection means "the cursor's line" for explain/implement/tests:
// the server gets a range that covers something.
export function action_range(selection: Range): Range {
  if (!is_empty(selection)) return selection;
  return { start: { line: selection.start.line, character: 0 },
           end: { line: selection.start.line + 1, character: 0 } };
}

export function build_arguments(command: CommandId, editor: EditorContext | undefined,
                                prompt?: string): Built {
  if (command === 'beluga.ask') {
    const text = (prompt ?? '').trim();
    if (text.length === 0) return { ok: false, error: 'Ask beluga: the prompt is empty' };
    // Without an editor the question is about the workspace.
    if (!editor) return { ok: true, args: { prompt: text } };
    return { ok: true, args: { uri: editor.uri, range: editor.selection, prompt: text } };
  }
  if (!editor) return { ok: false, error: `${kCommandTitles[command]}: no active editor` };
  if (command === 'beluga.fix') {
    const diagnostic = pick_diagnostic(editor.selection, editor.diagnostics);
    if (!diagnostic) {
      return { ok: false, error: 'Fix this diagnostic (beluga): no diagnostic at the cursor or selection' };
    }
    return { ok: true, args: { uri: editor.uri, range: diagnostic.range, diagnostic } };
  }
  return { ok: true, args: { uri: editor.uri, range: action_range(editor.selection) } };
}

// A server's code action "Ask beluga…" carries {uri, range} without the
// prompt: the editor asks for it. True when the arguments still need one.
export function needs_prompt(command: string, args: unknown[]): boolean {
  if (command !== 'beluga.ask') return false;
  const first = args[0];
  if (typeof first !== 'object' || first === null) return true;
  const prompt = (first as CommandArguments).prompt;
  return typeof prompt !== 'string' || prompt.trim().length === 0;
}

export function with_prompt(args: unknown[], prompt: string): unknown[] {
  const first = typeof args[0] === 'object' && args[0] !== null ? args[0] as CommandArguments : {};
  return [{ ...first, prompt }, ...args.slice(1)];
}

// How a command's turn is introduced in the chat transcript:
// "Explain (beluga): calc.py:3-5", "Ask beluga…: calc.py:3 — why?".
export function command_label(command: CommandId, args: CommandArguments): string {
  let where = '';
  if (args.uri) {
    const path = decodeURIComponent(args.uri.replace(/^[a-z]+:\/\/[^/]*/i, ''));
    const name = path.slice(path.lastIndexOf('/') + 1) || path;
    where = name;
    if (args.range) {
      const first = args.range.start.line + 1;
      // A range ending at column 0 of a line does not include that line.
      let last = args.range.end.line + (args.range.end.character > 0 ? 1 : 0);
      if (last < first) last = first;
      where += first === last ? `:${first}` : `:${first}-${last}`;
    }
  }
  const title = kCommandTitles[command] ?? command;
  const prompt = args.prompt ? ` — ${args.prompt}` : '';
  return where.length > 0 ? `${title}: ${where}${prompt}` : `${title}${prompt}`;
}
