// The chat view: a webview view in beluga's activity-bar container. The
// extension owns the transcript (lib/transcript.ts) and sends the webview
// its rendered HTML after each change; the webview posts back "send",
// "cancel" and "clear". One view per window, fed by beluga/chatUpdate.
//
// Thread contract: VS Code extensions run on one thread; notification
// handlers and webview messages interleave only at awaits.

import * as vscode from 'vscode';
import { ChatParams, Range } from './lib/protocol';
import {
  Transcript, apply_update, begin_command, begin_turn, empty_transcript, end_command, end_turn,
} from './lib/transcript';
import { transcript_html } from './lib/render';

export interface ChatBackend {
  chat(params: ChatParams): Promise<unknown>;
  cancel(sessionId?: string): Promise<void>;
}

export class ChatViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'beluga.chat';
  private view_?: vscode.WebviewView;
  private transcript_: Transcript = empty_transcript();

  constructor(private readonly extension_uri_: vscode.Uri,
              private readonly backend_: () => ChatBackend | undefined) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view_ = view;
    const media = vscode.Uri.joinPath(this.extension_uri_, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = this.page_(view.webview, media);
    view.webview.onDidReceiveMessage((m) => { void this.on_message_(m); });
    view.onDidDispose(() => { this.view_ = undefined; });
  }

  // A beluga/chatUpdate notification.
  on_update(params: unknown): void {
    if (apply_update(this.transcript_, params)) this.refresh_();
  }

  // Sends a message as if typed in the view (used by "Ask beluga in chat").
  async send(text: string): Promise<void> {
    const backend = this.backend_();
    if (!backend) {
      void vscode.window.showWarningMessage('beluga: the language server is not running');
      return;
    }
    if (this.transcript_.running) {
      void vscode.window.showInformationMessage('beluga: a chat turn is still running; cancel it first');
      return;
    }
    const params: ChatParams = { text };
    const editor = vscode.window.activeTextEditor;
    if (editor && editor.document.uri.scheme === 'file') {
      params.uri = editor.document.uri.toString();
      if (!editor.selection.isEmpty) params.range = to_range(editor.selection);
    }
    begin_turn(this.transcript_, text);
    this.refresh_();
    try {
      const result = await backend.chat(params) as { sessionId?: string; stopReason?: string };
      end_turn(this.transcript_, result);
    } catch (e) {
      end_turn(this.transcript_, undefined, e instanceof Error ? e.message : String(e));
    }
    this.refresh_();
  }

  // A command's turn (code action or palette): label it and show the view,
  // without taking the focus from the editor.
  async begin_command(label: string): Promise<void> {
    begin_command(this.transcript_, label);
    this.refresh_();
    if (this.view_) {
      this.view_.show(true);
    } else {
      await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
      await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    }
  }

  end_command(result: unknown, error?: string): void {
    end_command(this.transcript_, result as { stopReason?: string } | undefined, error);
    this.refresh_();
  }

  async cancel(): Promise<void> {
    const backend = this.backend_();
    if (backend) await backend.cancel(this.transcript_.sessionId);
  }

  clear(): void {
    if (this.transcript_.running) return;
    this.transcript_ = empty_transcript();
    this.refresh_();
  }

  private async on_message_(m: unknown): Promise<void> {
    if (typeof m !== 'object' || m === null) return;
    const msg = m as { type?: string; text?: string };
    if (msg.type === 'send' && typeof msg.text === 'string' && msg.text.trim().length > 0) {
      await this.send(msg.text.trim());
    } else if (msg.type === 'cancel') {
      await this.cancel();
    } else if (msg.type === 'clear') {
      this.clear();
    } else if (msg.type === 'ready') {
      this.refresh_();
    }
  }

  private refresh_(): void {
    if (!this.view_) return;
    void this.view_.webview.postMessage({
      type: 'render', html: transcript_html(this.transcript_), running: this.transcript_.running,
    });
  }

  private page_(webview: vscode.Webview, media: vscode.Uri): string {
    const nonce = make_nonce();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css'));
    const csp = `default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';`;
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}"></head>
<body>
<div id="log"></div>
<form id="form"><textarea id="input" rows="3" placeholder="Ask beluga (Enter sends, Shift+Enter for a new line)"></textarea>
<div class="buttons"><button type="submit" id="send">Send</button><button type="button" id="cancel" disabled>Cancel</button><button type="button" id="clear">Clear</button></div></form>
<script nonce="${nonce}" src="${script}"></script>
</body></html>`;
  }
}

export function to_range(r: vscode.Range): Range {
  return { start: { line: r.start.line, character: r.start.character },
           end: { line: r.end.line, character: r.end.character } };
}

function make_nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; ++i) s += chars.charAt(Math.floor(Math.random() * chars.length));
  return s;
}
