// The extension's pure logic against the real `beluga lsp`: settings →
// command line and initializationOptions, beluga/status → status text,
// beluga/chat + beluga/chatUpdate → transcript, a command's arguments and
// its turn in the same transcript, beluga/sessions → items.
// Runs when BELUGA_BIN names the binary (CTest's vscode_extension_server sets
// it); a plain `npm test` reports it skipped. The server and the daemon it
// starts live in private XDG folders with a replayed model; the daemon is
// stopped at the end.

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { kCommandIds, kMethods } from '../lib/protocol';
import { parse_sessions, session_items } from '../lib/sessions';
import { server_options } from '../lib/settings';
import { status_view } from '../lib/status';
import { build_arguments, command_label } from '../lib/commands';
import { apply_update, begin_command, begin_turn, empty_transcript, end_command, end_turn } from '../lib/transcript';

const bin = process.env.BELUGA_BIN;
const kWaitMs = 120_000;  // a loaded 2-core machine starts the daemon slowly

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), kWaitMs);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

test('the transcript, status and sessions from a real beluga lsp', { skip: bin ? false : 'BELUGA_BIN is not set' }, async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beluga-vscode-test-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env, HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run'), XDG_STATE_HOME: path.join(home, 'state'),
    XDG_DATA_HOME: path.join(home, 'data'), XDG_CONFIG_HOME: path.join(home, 'config'), XDG_CACHE_HOME: path.join(home, 'cache'),
  };
  fs.mkdirSync(env.XDG_RUNTIME_DIR!, { mode: 0o700 });
  const work = path.join(home, 'work');
  fs.mkdirSync(work);
  fs.writeFileSync(path.join(work, 'calc.py'), 'def add(a, b):\n    return a + b\n');
  const model = path.join(home, 'model.jsonl');
  fs.writeFileSync(model, [JSON.stringify({ completion: 'Greeting.</think>Hello from the replay.' }),
                          JSON.stringify({ completion: 'Reading.</think>It adds a and b.' }), ''].join('\n'));

  const options = server_options({ path: bin, model: `replay:${model}`, mode: 'default' }, home);
  const server = spawn(options.command, options.args, { cwd: work, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d.toString(); });
  const connection = createMessageConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
  const statuses: unknown[] = [];
  const transcript = empty_transcript();
  let updates = 0;
  let on_ready: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { on_ready = resolve; });
  connection.onNotification(kMethods.status, (p) => {
    statuses.push(p);
    if ((p as { state?: string }).state === 'ready') on_ready();
  });
  connection.onNotification(kMethods.chatUpdate, (p) => { if (apply_update(transcript, p)) ++updates; });
  connection.onRequest((method) => {
    // Progress tokens and the like: accept; nothing here asks permission.
    if (method === 'window/workDoneProgress/create') return null;
    return null;
  });
  connection.listen();
  try {
    const init = await within(connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: `file://${work}`,
      workspaceFolders: [{ uri: `file://${work}`, name: 'work' }],
      capabilities: { window: { workDoneProgress: true } },
      initializationOptions: options.initializationOptions,  // showAnswers false: no showMessage
    }) as Promise<{ capabilities: { executeCommandProvider?: { commands: string[] } }; serverInfo?: { name: string } }>,
    'initialize');
    assert.equal(init.serverInfo?.name, 'beluga');
    assert.deepEqual([...(init.capabilities.executeCommandProvider?.commands ?? [])].sort(), [...kCommandIds].sort());
    await connection.sendNotification('initialized', {});
    // The server connects to (or starts) the daemon after initialize and
    // says so with beluga/status (the extension's status item shows it).
    await within(ready, 'beluga/status ready');

    begin_turn(transcript, 'Say hello');
    const result = await within(connection.sendRequest(kMethods.chat, { text: 'Say hello', uri: `file://${work}/calc.py` }),
                                'beluga/chat');
    end_turn(transcript, result as { sessionId?: string; stopReason?: string });
    assert.equal((result as { stopReason: string }).stopReason, 'end_turn');
    assert.ok(updates > 0, 'no beluga/chatUpdate was usable');
    assert.equal(transcript.sessionId, (result as { sessionId: string }).sessionId);
    const messages = transcript.entries.filter((e) => e.kind === 'message').map((e) => (e as { text: string }).text);
    assert.deepEqual(messages, ['Hello from the replay.']);
    const thoughts = transcript.entries.filter((e) => e.kind === 'thought').map((e) => (e as { text: string }).text);
    // (The daemon may put a warning before the model's thinking, e.g. that
    // a workspace without git gets no checkpoint.)
    assert.equal(thoughts.length, 1);
    assert.ok(thoughts[0].endsWith('Greeting.'), thoughts[0]);

    // A palette command: arguments from the editor state, the turn's
    // updates in the same transcript under the command's label.
    const editor = { uri: `file://${work}/calc.py`, diagnostics: [],
                     selection: { start: { line: 0, character: 0 }, end: { line: 1, character: 16 } } };
    const built = build_arguments('beluga.explain', editor);
    assert.ok(built.ok);
    if (!built.ok) return;
    begin_command(transcript, command_label('beluga.explain', built.args));
    const explained = await within(connection.sendRequest('workspace/executeCommand',
      { command: 'beluga.explain', arguments: [built.args] }), 'beluga.explain') as { sessionId: string; stopReason: string };
    end_command(transcript, explained);
    assert.equal(explained.stopReason, 'end_turn');
    assert.equal(explained.sessionId, transcript.sessionId, 'one workspace session for chat and commands');
    const label = transcript.entries.findIndex((e) => e.kind === 'user' && e.text === 'Explain (beluga): calc.py:1-2');
    assert.ok(label > 0, JSON.stringify(transcript.entries));
    const after = transcript.entries.slice(label + 1).filter((e) => e.kind === 'message');
    assert.deepEqual(after, [{ kind: 'message', text: 'It adds a and b.' }]);

    const sessions = session_items(parse_sessions(await within(connection.sendRequest(kMethods.sessions, {}), 'sessions')), Date.now());
    assert.ok(sessions.some((s) => s.sessionId === transcript.sessionId), JSON.stringify(sessions));

    for (const s of statuses) assert.notEqual(status_view(s).text, '$(debug-disconnect) beluga', JSON.stringify(s));
    assert.equal(status_view(statuses[statuses.length - 1]).text.endsWith(' beluga'), true);

    await within(connection.sendRequest('shutdown'), 'shutdown');
    await connection.sendNotification('exit');
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- beluga lsp stderr ---\n${stderr}`);
  } finally {
    connection.dispose();
    server.kill();
    spawnSync(bin!, ['daemon', 'stop'], { env, stdio: 'ignore', timeout: 60_000 });
    fs.rmSync(home, { recursive: true, force: true });
  }
});
