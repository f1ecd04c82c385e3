// Rendering of the transcript for the chat webview: plans as checklists and
// the whole transcript as HTML. Everything from the server or the user is
// escaped (the webview's content security policy forbids inline scripts as
// a second line of defence).

import { Plan, ToolCall } from './protocol';
import { Entry, Transcript, tool_content_text } from './transcript';

export function escape_html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
          .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const kPlanMarks: Record<string, string> = { pending: '[ ]', in_progress: '[~]', completed: '[x]' };

// A plan as plain-text lines: "[x] step (high)". Unknown statuses show as
// pending; priorities other than medium are named.
export function plan_lines(plan: Plan): string[] {
  return plan.entries.map((e) => {
    const mark = kPlanMarks[e.status ?? 'pending'] ?? '[ ]';
    const priority = e.priority && e.priority !== 'medium' ? ` (${e.priority})` : '';
    return `${mark} ${e.content}${priority}`;
  });
}

export function plan_progress(plan: Plan): string {
  const done = plan.entries.filter((e) => e.status === 'completed').length;
  return `${done}/${plan.entries.length}`;
}

export function plan_html(plan: Plan): string {
  const items = plan.entries.map((e) => {
    const status = kPlanMarks[e.status ?? ''] ? e.status! : 'pending';
    const priority = e.priority && e.priority !== 'medium'
      ? ` <span class="priority">${escape_html(e.priority)}</span>` : '';
    return `<li class="plan-${status}">${escape_html(e.content)}${priority}</li>`;
  });
  return `<div class="plan"><div class="label">Plan ${plan_progress(plan)}</div><ul>${items.join('')}</ul></div>`;
}

const kStatusIcons: Record<string, string> = {
  pending: '…', in_progress: '⟳', completed: '✓', failed: '✗',
};

export function tool_title(call: ToolCall): string {
  const icon = kStatusIcons[call.status ?? 'pending'] ?? '•';
  const title = call.title && call.title.length > 0 ? call.title : (call.kind ?? 'tool');
  return `${icon} ${title}`;
}

function entry_html(e: Entry): string {
  switch (e.kind) {
    case 'user':
      return `<div class="user">${escape_html(e.text)}</div>`;
    case 'message':
      return `<div class="message">${escape_html(e.text)}</div>`;
    case 'thought':
      return `<details class="thought"><summary>Thinking</summary><div>${escape_html(e.text)}</div></details>`;
    case 'tool': {
      const body = tool_content_text(e.call);
      const status = escape_html(e.call.status ?? 'pending');
      const details = body.length > 0 ? `<pre>${escape_html(body)}</pre>` : '';
      return `<div class="tool tool-${status}"><div class="label">${escape_html(tool_title(e.call))}</div>${details}</div>`;
    }
    case 'plan':
      return plan_html(e.plan);
    case 'notice':
      return `<div class="notice">${escape_html(e.text)}</div>`;
  }
}

// The transcript's body: one element per entry, then the usage line.
export function transcript_html(t: Transcript): string {
  const parts = t.entries.map(entry_html);
  if (t.running) parts.push('<div class="notice running">working…</div>');
  if (t.usage) parts.push(`<div class="usage">${escape_html(t.usage)}</div>`);
  return parts.join('\n');
}
