import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { age_text, parse_sessions, rewind_text, session_items, updated_ms } from '../lib/sessions';
import { server_options } from '../lib/settings';
import { status_view } from '../lib/status';

test('default settings start plain `beluga lsp` with no options', () => {
  assert.deepEqual(server_options({}, '/home/me'),
                   { command: 'beluga', args: ['lsp'], initializationOptions: { showAnswers: false }, problems: [] });
  assert.deepEqual(server_options({ path: '  ', model: '', mode: 'default', logLevel: 'info' }, '/home/me'),
                   { command: 'beluga', args: ['lsp'], initializationOptions: { showAnswers: false }, problems: [] });
});

test('path, model, mode and log level become the command line and initializationOptions', () => {
  const o = server_options({ path: '~/bin/beluga', model: 'replay:~/m.jsonl', mode: 'plan', logLevel: 'debug' }, '/home/me');
  assert.equal(o.command, '/home/me/bin/beluga');
  assert.deepEqual(o.args, ['lsp', '--model', 'replay:/home/me/m.jsonl', '--log-level', 'debug']);
  assert.deepEqual(o.initializationOptions, { model: 'replay:/home/me/m.jsonl', mode: 'plan', showAnswers: false });
  assert.deepEqual(o.problems, []);
  assert.equal(server_options({ model: '/models/v4' }, '').args.join(' '), 'lsp --model /models/v4');
});

test('bad settings are reported and ignored', () => {
  const o = server_options({ path: 7, mode: 'turbo', logLevel: 'trace' }, '/h');
  assert.equal(o.command, 'beluga');
  assert.deepEqual(o.args, ['lsp']);
  assert.deepEqual(o.initializationOptions, { showAnswers: false });
  assert.equal(o.problems.length, 2);
  assert.match(o.problems[0], /beluga.mode "turbo"/);
});

test('status text follows the server state', () => {
  assert.deepEqual(status_view({ state: 'ready', message: 'model v4' }),
                   { text: '$(check) beluga', tooltip: 'beluga ready: model v4', warning: false });
  assert.equal(status_view({ state: 'busy', message: 'explain a.cpp' }).text, '$(sync~spin) beluga: explain a.cpp');
  assert.equal(status_view({ state: 'busy', message: 'x'.repeat(60) }).text, '$(sync~spin) beluga');
  assert.equal(status_view({ state: 'starting', message: '' }).tooltip, 'beluga starting');
  assert.equal(status_view({ state: 'disconnected', message: 'daemon gone' }).warning, true);
});

test('malformed status reads as disconnected', () => {
  for (const bad of [null, 3, {}, { state: 'flying', message: 'm' }]) {
    const v = status_view(bad);
    assert.equal(v.warning, true);
    assert.equal(v.text, '$(debug-disconnect) beluga');
  }
});

test('updatedAt is read as seconds, milliseconds or ISO text', () => {
  assert.equal(updated_ms(1700000000), 1700000000000);
  assert.equal(updated_ms(1700000000123), 1700000000123);
  assert.equal(updated_ms('1700000000'), 1700000000000);
  assert.equal(updated_ms('2026-11-23T01:00:00Z'), Date.UTC(2026, 10, 23, 1, 0, 0));
  assert.ok(Number.isNaN(updated_ms(undefined)));
  assert.ok(Number.isNaN(updated_ms('yesterday')));
});

test('ages are coarse', () => {
  const now = 1_000_000_000_000;
  assert.equal(age_text(now - 5_000, now), 'just now');
  assert.equal(age_text(now - 5 * 60_000, now), '5 min ago');
  assert.equal(age_text(now - 3 * 3600_000, now), '3 h ago');
  assert.equal(age_text(now - 2 * 86400_000, now), '2 d ago');
  assert.equal(age_text(NaN, now), '');
});

test('sessions are listed newest first with titles, ages and ids', () => {
  const now = Date.UTC(2026, 10, 23, 2, 0, 0);
  const sessions = parse_sessions({ sessions: [
    { sessionId: 'old', title: 'first', cwd: '/w', updatedAt: '2026-11-22T02:00:00Z' },
    { sessionId: 'new', title: '  ', updatedAt: (now - 120_000) / 1000 },
    { title: 'no id' },
    { sessionId: 'unknown-time', title: 'x' },
  ] });
  const items = session_items(sessions, now);
  assert.deepEqual(items.map((i) => i.sessionId), ['new', 'old', 'unknown-time']);
  assert.deepEqual(items[0], { label: '(untitled)', description: '2 min ago', detail: 'new', sessionId: 'new' });
  assert.deepEqual(items[1], { label: 'first', description: '1 d ago', detail: 'old · /w', sessionId: 'old' });
  assert.deepEqual(parse_sessions(null), []);
  assert.deepEqual(parse_sessions({ sessions: 'x' }), []);
});

test('rewind results name the restored files', () => {
  assert.equal(rewind_text({ restored: [] }), 'beluga: rewound; no files needed restoring');
  assert.equal(rewind_text({ restored: ['a', 'b'] }), 'beluga: rewound; restored a, b');
  assert.equal(rewind_text({ restored: ['1', '2', '3', '4', '5', '6', '7'] }),
               'beluga: rewound; restored 1, 2, 3, 4, 5 and 2 more');
  assert.equal(rewind_text(null), 'beluga: rewind answered without a file list');
});
