// The shapes of the `beluga lsp` contract that the extension uses (see
// docs/protocol.md, "LSP bridge"). Plain data only: no `vscode` import, so
// the modules under lib/ run under `node --test`.

export interface Position { line: number; character: number; }
export interface Range { start: Position; end: Position; }

// An LSP Diagnostic as the server receives it in beluga.fix's arguments.
export interface Diagnostic {
  range: Range;
  message: string;
  severity?: number;
  code?: string | number;
  source?: string;
}

// initializationOptions (the contract's additions: showAnswers, completion).
export interface InitializationOptions {
  model?: string;
  mode?: 'default' | 'auto-edit' | 'plan' | 'yolo';
  // false: command answers are not repeated as window/showMessage (this
  // extension shows every turn in its chat view).
  showAnswers?: boolean;
  completion?: { maxTokens?: number; debounceMs?: number; contextTokens?: number };
}

// The five commands of workspace/executeCommand (and of the code actions).
export const kCommandIds = [
  'beluga.explain', 'beluga.fix', 'beluga.implement', 'beluga.writeTests', 'beluga.ask',
] as const;
export type CommandId = typeof kCommandIds[number];

export interface CommandArguments {
  uri?: string;
  range?: Range;
  diagnostic?: Diagnostic;
  prompt?: string;
}

// executeCommand and beluga/chat both answer this when the turn ends.
export interface TurnResult { sessionId: string; stopReason: string; }

export type ChatUpdateKind = 'message' | 'thought' | 'tool_call' | 'tool_call_update' | 'plan' | 'usage';

export interface PlanEntry { content: string; priority?: string; status?: string; }
export interface Plan { entries: PlanEntry[]; }

// An ACP tool call (session/update tool_call / tool_call_update): every field
// but toolCallId may be missing from an update.
export interface ToolCall {
  toolCallId: string;
  title?: string;
  kind?: string;
  status?: string;
  content?: unknown[];
  locations?: { path: string; line?: number }[];
  rawInput?: unknown;
  rawOutput?: unknown;
}

// usage: how full the session's context is, in tokens.
export interface Usage { used: number; size: number; }

export interface ChatUpdate {
  sessionId: string;
  kind: ChatUpdateKind;
  text?: string;
  toolCall?: ToolCall;
  plan?: Plan;
  usage?: Usage;
}

export interface ChatParams { text: string; uri?: string; range?: Range; }

export interface SessionInfo {
  sessionId: string;
  title?: string;
  cwd?: string;
  updatedAt?: string | number;
}

export interface RewindResult { restored: string[]; }

export type ServerState = 'starting' | 'ready' | 'busy' | 'disconnected';
export interface StatusParams { state: ServerState; message: string; }

export const kMethods = {
  chat: 'beluga/chat',
  chatUpdate: 'beluga/chatUpdate',
  cancel: 'beluga/cancel',
  sessions: 'beluga/sessions',
  rewind: 'beluga/rewind',
  status: 'beluga/status',
} as const;
