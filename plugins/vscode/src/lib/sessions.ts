// beluga/sessions results as quick-pick items, newest first.

import { SessionInfo } from './protocol';

export interface SessionItem {
  label: string;
  description: string;
  detail: string;
  sessionId: string;
}

// updatedAt may be Unix seconds, milliseconds or an ISO 8601 string;
// returns milliseconds, or NaN when unreadable.
export function updated_ms(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e12 ? v : v * 1000;
  if (typeof v === 'string' && v.length > 0) {
    if (/^\d+(\.\d+)?$/.test(v)) return updated_ms(Number(v));
    return Date.parse(v);
  }
  return NaN;
}

export function age_text(ms: number, now_ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round((now_ms - ms) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function parse_sessions(result: unknown): SessionInfo[] {
  if (typeof result !== 'object' || result === null) return [];
  const list = (result as { sessions?: unknown }).sessions;
  if (!Array.isArray(list)) return [];
  return list.filter((s): s is SessionInfo =>
    typeof s === 'object' && s !== null && typeof (s as SessionInfo).sessionId === 'string');
}

export function session_items(sessions: SessionInfo[], now_ms: number): SessionItem[] {
  const sorted = [...sessions].sort((a, b) => {
    const ta = updated_ms(a.updatedAt), tb = updated_ms(b.updatedAt);
    return (Number.isNaN(tb) ? -Infinity : tb) - (Number.isNaN(ta) ? -Infinity : ta);
  });
  return sorted.map((s) => ({
    label: s.title && s.title.trim().length > 0 ? s.title.trim() : '(untitled)',
    description: age_text(updated_ms(s.updatedAt), now_ms),
    detail: s.cwd ? `${s.sessionId} · ${s.cwd}` : s.sessionId,
    sessionId: s.sessionId,
  }));
}

export function rewind_text(result: unknown): string {
  const restored = typeof result === 'object' && result !== null
    ? (result as { restored?: unknown }).restored : undefined;
  if (!Array.isArray(restored)) return 'beluga: rewind answered without a file list';
  const paths = restored.filter((p): p is string => typeof p === 'string');
  if (paths.length === 0) return 'beluga: rewound; no files needed restoring';
  const shown = paths.slice(0, 5).join(', ');
  const more = paths.length > 5 ? ` and ${paths.length - 5} more` : '';
  return `beluga: rewound; restored ${shown}${more}`;
}
