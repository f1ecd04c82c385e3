// The VS Code side of beluga: starts `beluga lsp` through vscode-languageclient
// and adds what a generic LSP client lacks: palette and context-menu commands
// for the five actions (with the prompt box for "Ask beluga…"), the chat view,
// the status item, sessions and rewind. Decisions live in lib/ (no `vscode`
// import, unit-tested); this file only wires them to the editor.
//
// Thread contract: everything runs on the extension host's one thread.

import * as os from 'os';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest, LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind,
} from 'vscode-languageclient/node';
import { ChatBackend, ChatViewProvider, to_range } from './chatView';
import {
  EditorContext, build_arguments, command_label, kCommandTitles, needs_prompt, with_prompt,
} from './lib/commands';
import { CommandArguments, CommandId, Diagnostic, TurnResult, kCommandIds, kMethods } from './lib/protocol';
import { parse_sessions, rewind_text, session_items } from './lib/sessions';
import { server_options } from './lib/settings';
import { status_view } from './lib/status';
import { stop_reason_text } from './lib/transcript';

let client: LanguageClient | undefined;
let status_item: vscode.StatusBarItem;
let chat_view: ChatViewProvider;

// Palette / context-menu command → the server command it runs. The server's
// own ids (beluga.explain, ...) are registered by the language client for the
// code actions, so the editor-side commands need ids of their own.
const kEditorCommands: Record<string, CommandId> = {
  'beluga.explainSelection': 'beluga.explain',
  'beluga.fixDiagnostic': 'beluga.fix',
  'beluga.implementSelection': 'beluga.implement',
  'beluga.writeTestsForSelection': 'beluga.writeTests',
  'beluga.askAboutSelection': 'beluga.ask',
};

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  status_item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status_item.command = 'beluga.openChat';
  show_status({ state: 'starting', message: 'starting beluga lsp' });
  status_item.show();
  context.subscriptions.push(status_item);

  const backend: ChatBackend = {
    chat: (params) => running_client().sendRequest(kMethods.chat, params),
    cancel: async (sessionId) => {
      await running_client().sendRequest(kMethods.cancel, sessionId ? { sessionId } : {});
    },
  };
  chat_view = new ChatViewProvider(context.extensionUri, () => (client?.isRunning() ? backend : undefined));
  context.subscriptions.push(vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, chat_view,
    { webviewOptions: { retainContextWhenHidden: true } }));

  for (const [id, server_command] of Object.entries(kEditorCommands)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, () => run_action(server_command)));
  }
  const register = (id: string, f: () => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, f));
  register('beluga.openChat', () => vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`));
  register('beluga.askInChat', async () => {
    const text = await vscode.window.showInputBox({ title: 'Ask beluga (chat)', prompt: 'Your message' });
    if (!text || text.trim().length === 0) return;
    await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
    await chat_view.send(text.trim());
  });
  register('beluga.cancel', () => guarded(() => running_client().sendRequest(kMethods.cancel, {})));
  register('beluga.sessions', () => guarded(show_sessions));
  register('beluga.rewind', () => guarded(() => rewind(undefined)));
  register('beluga.restart', () => guarded(restart));
  register('beluga.showLog', () => client?.outputChannel.show());

  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('beluga')) void guarded(restart);
  }));
  await guarded(start);
}

export async function deactivate(): Promise<void> {
  if (client) await client.stop();
  client = undefined;
}

function running_client(): LanguageClient {
  if (!client || !client.isRunning()) throw new Error('the beluga language server is not running');
  return client;
}

async function guarded(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch (e) {
    void vscode.window.showErrorMessage(`beluga: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function show_status(params: unknown): void {
  const view = status_view(params);
  status_item.text = view.text;
  status_item.tooltip = view.tooltip;
  status_item.backgroundColor = view.warning
    ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
}

async function start(): Promise<void> {
  const config = vscode.workspace.getConfiguration('beluga');
  const options = server_options({
    path: config.get('path'), model: config.get('model'), mode: config.get('mode'),
    logLevel: config.get('logLevel'),
  }, os.homedir());
  for (const p of options.problems) void vscode.window.showWarningMessage(`beluga: ${p}`);

  const server: ServerOptions = { command: options.command, args: options.args, transport: TransportKind.stdio };
  const client_options: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    initializationOptions: options.initializationOptions,
    outputChannelName: 'beluga',
    middleware: {
      // The server offers its fill-in-the-middle answer both as an inline
      // completion and as a completion item (for editors without inline
      // completion). Where VS Code shows inline suggestions, asking for both
      // would run the model twice per keystroke pause.
      provideCompletionItem: (document, position, context, token, next) =>
        vscode.workspace.getConfiguration('editor', document).get<boolean>('inlineSuggest.enabled', true)
          ? undefined : next(document, position, context, token),
      // The server's "Ask beluga…" code action leaves the prompt to the editor.
      executeCommand: async (command, args, next) => {
        if (needs_prompt(command, args)) {
          const prompt = await vscode.window.showInputBox({ title: 'Ask beluga…', prompt: 'What should beluga do with this code?' });
          if (!prompt || prompt.trim().length === 0) return undefined;
          args = with_prompt(args, prompt.trim());
        }
        if (!(kCommandIds as readonly string[]).includes(command)) return next(command, args);
        const first = (typeof args[0] === 'object' && args[0] !== null ? args[0] : {}) as CommandArguments;
        return run_turn(command as CommandId, first, () => next(command, args));
      },
    },
  };
  client = new LanguageClient('beluga', 'beluga', server, client_options);
  let status_seen = false;
  client.onNotification(kMethods.status, (params) => { status_seen = true; show_status(params); });
  client.onNotification(kMethods.chatUpdate, (params) => chat_view.on_update(params));
  client.onDidChangeState((e) => {
    if (e.newState === State.Stopped) show_status({ state: 'disconnected', message: 'beluga lsp stopped' });
  });
  try {
    await client.start();
    // The server reports its own state (connecting to the daemon, ...);
    // this is only for a server that has said nothing yet.
    if (!status_seen) show_status({ state: 'ready', message: `${options.command} ${options.args.join(' ')}` });
  } catch (e) {
    show_status({ state: 'disconnected', message: 'could not start beluga lsp' });
    throw new Error(`could not start "${options.command} ${options.args.join(' ')}" ` +
                    `(set beluga.path): ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function restart(): Promise<void> {
  if (client) {
    const old = client;
    client = undefined;
    await old.stop().catch(() => undefined);
  }
  await start();
}

function report_turn(result: unknown): void {
  const r = result as Partial<TurnResult> | undefined;
  if (r && typeof r.stopReason === 'string' && r.stopReason !== 'end_turn') {
    void vscode.window.showWarningMessage(`beluga: ${stop_reason_text(r.stopReason)}`);
  }
}

function editor_context(): EditorContext | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const c = running_client();
  const diagnostics: Diagnostic[] = vscode.languages.getDiagnostics(editor.document.uri)
    .map((d) => c.code2ProtocolConverter.asDiagnostic(d) as Diagnostic);
  return { uri: editor.document.uri.toString(), selection: to_range(editor.selection), diagnostics };
}

async function run_action(command: CommandId): Promise<void> {
  await guarded(async () => {
    const c = running_client();
    let prompt: string | undefined;
    if (command === 'beluga.ask') {
      prompt = await vscode.window.showInputBox({ title: kCommandTitles['beluga.ask'], prompt: 'What should beluga do?' });
      if (prompt === undefined) return;  // dismissed
    }
    const built = build_arguments(command, editor_context(), prompt);
    if (!built.ok) throw new Error(built.error);
    await run_turn(command, built.args,
                   () => c.sendRequest(ExecuteCommandRequest.type, { command, arguments: [built.args] }));
  });
}

// One command's turn: labelled in the chat view (where its answer streams
// through beluga/chatUpdate), stops other than end_turn reported.
async function run_turn(command: CommandId, args: CommandArguments,
                        send: () => Promise<unknown> | unknown): Promise<unknown> {
  await chat_view.begin_command(command_label(command, args));
  try {
    const result = await send();
    chat_view.end_command(result);
    report_turn(result);
    return result;
  } catch (e) {
    chat_view.end_command(undefined, e instanceof Error ? e.message : String(e));
    throw e;
  }
}

async function show_sessions(): Promise<void> {
  const result = await running_client().sendRequest(kMethods.sessions, {});
  const items = session_items(parse_sessions(result), Date.now());
  if (items.length === 0) {
    void vscode.window.showInformationMessage('beluga: no sessions yet');
    return;
  }
  const picked = await vscode.window.showQuickPick(items, { title: 'beluga sessions', matchOnDetail: true });
  if (!picked) return;
  const action = await vscode.window.showQuickPick(['Rewind its last turn', 'Copy the session id'],
                                                   { title: picked.label });
  if (action === 'Rewind its last turn') await rewind(picked.sessionId);
  else if (action === 'Copy the session id') await vscode.env.clipboard.writeText(picked.sessionId);
}

async function rewind(sessionId: string | undefined): Promise<void> {
  const yes = 'Rewind';
  const answer = await vscode.window.showWarningMessage(
    'Undo the last beluga turn? Files it changed are restored from its checkpoint.', { modal: true }, yes);
  if (answer !== yes) return;
  const result = await running_client().sendRequest(kMethods.rewind, sessionId ? { sessionId } : {});
  void vscode.window.showInformationMessage(rewind_text(result));
}
