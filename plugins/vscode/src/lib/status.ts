// The status bar item's text, tooltip and colour from beluga/status.

import { ServerState, StatusParams } from './protocol';

export interface StatusView {
  text: string;        // with a codicon, e.g. "$(sync~spin) beluga"
  tooltip: string;
  warning: boolean;    // shown on the warning background
}

const kIcons: Record<ServerState, string> = {
  starting: '$(loading~spin)',
  ready: '$(check)',
  busy: '$(sync~spin)',
  disconnected: '$(debug-disconnect)',
};

export function is_server_state(v: unknown): v is ServerState {
  return v === 'starting' || v === 'ready' || v === 'busy' || v === 'disconnected';
}

// Unknown or malformed params read as "disconnected" with what was sent,
// rather than leaving an old, wrong state on display.
export function status_view(params: unknown): StatusView {
  const p = (typeof params === 'object' && params !== null ? params : {}) as Partial<StatusParams>;
  const state: ServerState = is_server_state(p.state) ? p.state : 'disconnected';
  const message = typeof p.message === 'string' ? p.message.trim() : '';
  const text = state === 'busy' && message.length > 0 && message.length <= 40
    ? `${kIcons[state]} beluga: ${message}` : `${kIcons[state]} beluga`;
  const tooltip = message.length > 0 ? `beluga ${state}: ${message}` : `beluga ${state}`;
  return { text, tooltip, warning: state === 'disconnected' };
}
