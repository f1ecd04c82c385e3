// The chat transcript, assembled from beluga/chatUpdate notifications.
//
// The server streams a turn as small pieces: message and thought chunks to
// append, tool calls that later updates complete (matched by toolCallId),
// whole plans that replace the previous one, and usage lines. The transcript
// folds them into entries a view can render in order. Consecutive chunks of
// one kind join one entry; a chunk after anything else starts a new entry,
// so "thought, tool call, message" reads in the order it happened.
//
// Pure data and functions (no `vscode`): tested by node --test. Notification
// params come from another process, so apply_update checks their shape and
// ignores what it cannot use instead of throwing.

import { ChatUpdate, Plan, PlanEntry, ToolCall } from './protocol';

export type Entry =
  | { kind: 'user'; text: string }
  | { kind: 'message'; text: string }
  | { kind: 'thought'; text: string }
  | { kind: 'tool'; call: ToolCall }
  | { kind: 'plan'; plan: Plan }
  | { kind: 'notice'; text: string };

export interface Transcript {
  sessionId?: string;
  entries: Entry[];
  usage?: string;       // the last usage line the server sent
  running: boolean;     // a beluga/chat request is outstanding
}

export function empty_transcript(): Transcript {
  return { entries: [], running: false };
}

// The user's message starts a turn.
export function begin_turn(t: Transcript, text: string): void {
  t.entries.push({ kind: 'user', text });
  t.running = true;
}

// A command (Explain, Fix, ...) started a turn in the workspace session: its
// updates arrive here too, so the transcript says what asked for them. The
// chat stays free for messages (running is about beluga/chat only).
export function begin_command(t: Transcript, text: string): void {
  t.entries.push({ kind: 'user', text });
}

export function end_command(t: Transcript, result: { stopReason?: string } | undefined, error?: string): void {
  if (error !== undefined) t.entries.push({ kind: 'notice', text: `error: ${error}` });
  else if (result && result.stopReason && result.stopReason !== 'end_turn') {
    t.entries.push({ kind: 'notice', text: stop_reason_text(result.stopReason) });
  }
}

// The beluga/chat request answered (or failed): a stop other than end_turn
// is worth showing, since the answer may be cut short.
export function end_turn(t: Transcript, result: { sessionId?: string; stopReason?: string } | undefined,
                         error?: string): void {
  t.running = false;
  if (result && typeof result.sessionId === 'string') t.sessionId = result.sessionId;
  if (error !== undefined) {
    t.entries.push({ kind: 'notice', text: `error: ${error}` });
  } else if (result && result.stopReason && result.stopReason !== 'end_turn') {
    t.entries.push({ kind: 'notice', text: stop_reason_text(result.stopReason) });
  }
}

export function stop_reason_text(stop_reason: string): string {
  switch (stop_reason) {
    case 'end_turn': return 'done';
    case 'cancelled': return 'cancelled';
    case 'max_tokens': return 'stopped: the answer reached the token limit';
    case 'max_turn_requests': return 'stopped: the turn reached its step limit';
    case 'refusal': return 'the model refused';
    default: return `stopped: ${stop_reason}`;
  }
}

function is_object(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// A plan as sent, keeping only well-formed entries.
export function parse_plan(v: unknown): Plan | undefined {
  if (!is_object(v) || !Array.isArray(v.entries)) return undefined;
  const entries: PlanEntry[] = [];
  for (const e of v.entries) {
    if (!is_object(e) || typeof e.content !== 'string') continue;
    entries.push({
      content: e.content,
      priority: typeof e.priority === 'string' ? e.priority : undefined,
      status: typeof e.status === 'string' ? e.status : undefined,
    });
  }
  return { entries };
}

function find_tool(t: Transcript, id: string): { kind: 'tool'; call: ToolCall } | undefined {
  for (let i = t.entries.length - 1; i >= 0; --i) {
    const e = t.entries[i];
    if (e.kind === 'tool' && e.call.toolCallId === id) return e;
  }
  return undefined;
}

// Folds one notification into the transcript. Returns false when the
// notification was not usable (wrong shape, another session's update).
export function apply_update(t: Transcript, raw: unknown): boolean {
  if (!is_object(raw) || typeof raw.kind !== 'string') return false;
  const u = raw as unknown as ChatUpdate;
  if (typeof u.sessionId === 'string') {
    // Updates of another session (e.g. a code action's turn in another
    // folder's session) do not belong in this transcript once it has one.
    if (t.sessionId !== undefined && t.sessionId !== u.sessionId) return false;
    t.sessionId = u.sessionId;
  }
  switch (u.kind) {
    case 'message':
    case 'thought': {
      if (typeof u.text !== 'string') return false;
      const last = t.entries[t.entries.length - 1];
      if (last && last.kind === u.kind) last.text += u.text;
      else t.entries.push({ kind: u.kind, text: u.text });
      return true;
    }
    case 'tool_call':
    case 'tool_call_update': {
      if (!is_object(u.toolCall) || typeof u.toolCall.toolCallId !== 'string') return false;
      const existing = find_tool(t, u.toolCall.toolCallId);
      if (existing) {
        // An update carries only what changed: merge field by field.
        existing.call = { ...existing.call, ...strip_undefined(u.toolCall) };
      } else {
        t.entries.push({ kind: 'tool', call: { ...u.toolCall } });
      }
      return true;
    }
    case 'plan': {
      const plan = parse_plan(u.plan);
      if (!plan) return false;
      // ACP plans are sent whole: the newest replaces the one of this turn.
      for (let i = t.entries.length - 1; i >= 0; --i) {
        const e = t.entries[i];
        if (e.kind === 'user') break;
        if (e.kind === 'plan') { e.plan = plan; return true; }
      }
      t.entries.push({ kind: 'plan', plan });
      return true;
    }
    case 'usage': {
      const text = usage_text(raw.usage) ?? (typeof u.text === 'string' ? u.text : undefined);
      if (text === undefined) return false;
      t.usage = text;
      return true;
    }
    default:
      return false;
  }
}

// {used, size} tokens → "context 1,234 / 65,536 tokens (2%)".
export function usage_text(v: unknown): string | undefined {
  if (!is_object(v) || typeof v.used !== 'number' || typeof v.size !== 'number' ||
      !Number.isFinite(v.used) || !Number.isFinite(v.size) || v.used < 0 || v.size <= 0) {
    return undefined;
  }
  const percent = Math.round((100 * v.used) / v.size);
  return `context ${v.used.toLocaleString('en-US')} / ${v.size.toLocaleString('en-US')} tokens (${percent}%)`;
}

function strip_undefined(o: ToolCall): Partial<ToolCall> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out as Partial<ToolCall>;
}

// The text parts of an ACP tool call's content: text blocks as they are,
// diffs as "path" headers with the new text, terminals by id.
export function tool_content_text(call: ToolCall): string {
  if (!Array.isArray(call.content)) return '';
  const parts: string[] = [];
  for (const c of call.content) {
    if (!is_object(c)) continue;
    if (c.type === 'content' && is_object(c.content) && typeof c.content.text === 'string') {
      parts.push(c.content.text);
    } else if (c.type === 'diff' && typeof c.path === 'string') {
      parts.push(diff_text(c.path, typeof c.oldText === 'string' ? c.oldText : null,
                           typeof c.newText === 'string' ? c.newText : ''));
    } else if (c.type === 'terminal' && typeof c.terminalId === 'string') {
      parts.push(`[terminal ${c.terminalId}]`);
    }
  }
  return parts.join('\n');
}

// A small line diff for display: the common head and tail are dropped, the
// rest shown as - and + lines. (A display aid, not a patch format.)
export function diff_text(path: string, old_text: string | null, new_text: string): string {
  const header = old_text === null ? `new file ${path}` : `edit ${path}`;
  const a = old_text === null ? [] : old_text.split('\n');
  const b = new_text.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) ++head;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head &&
         a[a.length - 1 - tail] === b[b.length - 1 - tail]) ++tail;
  const lines = [header];
  for (const l of a.slice(head, a.length - tail)) lines.push(`- ${l}`);
  for (const l of b.slice(head, b.length - tail)) lines.push(`+ ${l}`);
  return lines.join('\n');
}
