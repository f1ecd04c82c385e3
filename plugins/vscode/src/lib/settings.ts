// Settings (beluga.path, beluga.model, beluga.mode, beluga.logLevel) → how
// the extension starts the server: the command line of `beluga lsp` and the
// initializationOptions of the contract.

import { InitializationOptions } from './protocol';

export const kModes = ['default', 'auto-edit', 'plan', 'yolo'] as const;
export type Mode = typeof kModes[number];
export const kLogLevels = ['info', 'debug'] as const;

export interface Settings {
  path?: unknown;
  model?: unknown;
  mode?: unknown;
  logLevel?: unknown;
}

export interface ServerOptions {
  command: string;
  args: string[];
  initializationOptions: InitializationOptions;
  problems: string[];   // settings that were ignored, for a warning
}

function text_setting(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

// `home` expands a leading "~/" in paths (VS Code does not).
export function server_options(s: Settings, home: string): ServerOptions {
  const problems: string[] = [];
  const expand = (p: string) => (p === '~' || p.startsWith('~/')) && home.length > 0
    ? home + p.slice(1) : p;

  const command = expand(text_setting(s.path)) || 'beluga';
  const args = ['lsp'];
  // The chat view shows every turn's answer, commands' too.
  const init: InitializationOptions = { showAnswers: false };

  let model = text_setting(s.model);
  if (model.startsWith('replay:')) model = 'replay:' + expand(model.slice('replay:'.length));
  else model = expand(model);
  if (model.length > 0) {
    // On the command line too: the server passes it on when it has to start
    // the daemon, before initialize is read.
    args.push('--model', model);
    init.model = model;
  }

  const mode = text_setting(s.mode);
  if ((kModes as readonly string[]).includes(mode)) {
    if (mode !== 'default') init.mode = mode as Mode;
  } else if (mode.length > 0) {
    problems.push(`beluga.mode "${mode}" is not one of ${kModes.join(', ')}; using default`);
  }

  const level = text_setting(s.logLevel);
  if ((kLogLevels as readonly string[]).includes(level)) {
    if (level !== 'info') args.push('--log-level', level);
  } else if (level.length > 0) {
    problems.push(`beluga.logLevel "${level}" is not one of ${kLogLevels.join(', ')}; using info`);
  }
  return { command, args, initializationOptions: init, problems };
}
