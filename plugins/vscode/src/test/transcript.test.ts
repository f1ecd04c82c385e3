import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  apply_update, begin_command, begin_turn, diff_text, end_command, empty_transcript, end_turn, tool_content_text,
} from '../lib/transcript';

test('message and thought chunks of one kind join one entry in arrival order', () => {
  const t = empty_transcript();
  begin_turn(t, 'hi');
  assert.ok(apply_update(t, { sessionId: 's1', kind: 'thought', text: 'let me ' }));
  assert.ok(apply_update(t, { sessionId: 's1', kind: 'thought', text: 'think' }));
  assert.ok(apply_update(t, { sessionId: 's1', kind: 'message', text: 'Hel' }));
  assert.ok(apply_update(t, { sessionId: 's1', kind: 'message', text: 'lo' }));
  assert.deepEqual(t.entries, [
    { kind: 'user', text: 'hi' },
    { kind: 'thought', text: 'let me think' },
    { kind: 'message', text: 'Hello' },
  ]);
  assert.equal(t.sessionId, 's1');
  assert.equal(t.running, true);
});

test('a message after a tool call starts a new entry', () => {
  const t = empty_transcript();
  apply_update(t, { sessionId: 's', kind: 'message', text: 'a' });
  apply_update(t, { sessionId: 's', kind: 'tool_call', toolCall: { toolCallId: 't1', title: 'read x' } });
  apply_update(t, { sessionId: 's', kind: 'message', text: 'b' });
  assert.deepEqual(t.entries.map((e) => e.kind), ['message', 'tool', 'message']);
});

test('tool call updates merge into the call with the same id and keep unsent fields', () => {
  const t = empty_transcript();
  apply_update(t, { sessionId: 's', kind: 'tool_call',
                    toolCall: { toolCallId: 't1', title: 'write a.txt', kind: 'edit', status: 'pending' } });
  apply_update(t, { sessionId: 's', kind: 'tool_call', toolCall: { toolCallId: 't2', title: 'grep' } });
  apply_update(t, { sessionId: 's', kind: 'tool_call_update',
                    toolCall: { toolCallId: 't1', status: 'completed', title: null } });
  assert.equal(t.entries.length, 2);
  const first = t.entries[0];
  assert.equal(first.kind, 'tool');
  if (first.kind !== 'tool') return;
  assert.deepEqual(first.call, { toolCallId: 't1', title: 'write a.txt', kind: 'edit', status: 'completed' });
});

test('an update for an unknown tool call id is shown as a new call', () => {
  const t = empty_transcript();
  assert.ok(apply_update(t, { sessionId: 's', kind: 'tool_call_update', toolCall: { toolCallId: 'x', status: 'failed' } }));
  assert.equal(t.entries.length, 1);
});

test('a plan replaces the plan of the same turn and a new turn gets its own', () => {
  const t = empty_transcript();
  begin_turn(t, 'one');
  apply_update(t, { sessionId: 's', kind: 'plan', plan: { entries: [{ content: 'a', status: 'pending' }] } });
  apply_update(t, { sessionId: 's', kind: 'message', text: 'working' });
  apply_update(t, { sessionId: 's', kind: 'plan', plan: { entries: [{ content: 'a', status: 'completed' }] } });
  assert.deepEqual(t.entries.map((e) => e.kind), ['user', 'plan', 'message']);
  const plan = t.entries[1];
  assert.ok(plan.kind === 'plan' && plan.plan.entries[0].status === 'completed');
  end_turn(t, { sessionId: 's', stopReason: 'end_turn' });
  begin_turn(t, 'two');
  apply_update(t, { sessionId: 's', kind: 'plan', plan: { entries: [{ content: 'b' }] } });
  assert.deepEqual(t.entries.map((e) => e.kind), ['user', 'plan', 'message', 'user', 'plan']);
});

test('malformed plan entries are dropped and a plan without entries is refused', () => {
  const t = empty_transcript();
  assert.equal(apply_update(t, { sessionId: 's', kind: 'plan', plan: { steps: [] } }), false);
  assert.ok(apply_update(t, { sessionId: 's', kind: 'plan',
                              plan: { entries: [{ content: 'ok', priority: 'high' }, { content: 3 }, null] } }));
  const e = t.entries[0];
  assert.ok(e.kind === 'plan');
  if (e.kind === 'plan') assert.deepEqual(e.plan.entries, [{ content: 'ok', priority: 'high', status: undefined }]);
});

test('usage updates replace the usage line without adding entries', () => {
  const t = empty_transcript();
  assert.ok(apply_update(t, { sessionId: 's', kind: 'usage', usage: { used: 100, size: 65536 } }));
  assert.equal(t.usage, 'context 100 / 65,536 tokens (0%)');
  assert.ok(apply_update(t, { sessionId: 's', kind: 'usage', usage: { used: 32768, size: 65536 } }));
  assert.equal(t.usage, 'context 32,768 / 65,536 tokens (50%)');
  assert.ok(apply_update(t, { sessionId: 's', kind: 'usage', text: 'as text' }));
  assert.equal(t.usage, 'as text');
  for (const bad of [{ used: 'x', size: 1 }, { used: 1, size: 0 }, { used: -1, size: 5 }, null]) {
    assert.equal(apply_update(t, { sessionId: 's', kind: 'usage', usage: bad }), false, JSON.stringify(bad));
  }
  assert.equal(t.entries.length, 0);
});

test('a command turn is labelled in the transcript and leaves the chat free', () => {
  const t = empty_transcript();
  begin_command(t, 'Explain (beluga): a.cpp:3');
  apply_update(t, { sessionId: 's', kind: 'message', text: 'It adds.' });
  end_command(t, { stopReason: 'end_turn' });
  assert.equal(t.running, false);
  assert.deepEqual(t.entries, [{ kind: 'user', text: 'Explain (beluga): a.cpp:3' }, { kind: 'message', text: 'It adds.' }]);
  begin_command(t, 'Fix this diagnostic (beluga): a.cpp:9');
  end_command(t, undefined, 'the model failed');
  assert.deepEqual(t.entries[t.entries.length - 1], { kind: 'notice', text: 'error: the model failed' });
});

test('malformed notifications and other sessions are ignored without throwing', () => {
  const t = empty_transcript();
  for (const bad of [null, 42, 'x', [], {}, { kind: 'message' }, { kind: 'message', text: 5 },
                     { kind: 'tool_call' }, { kind: 'tool_call', toolCall: { title: 'no id' } },
                     { kind: 'nonsense', text: 'x' }, { kind: 'usage' }]) {
    assert.equal(apply_update(t, bad), false, JSON.stringify(bad));
  }
  assert.equal(t.entries.length, 0);
  apply_update(t, { sessionId: 'mine', kind: 'message', text: 'a' });
  assert.equal(apply_update(t, { sessionId: 'other', kind: 'message', text: 'b' }), false);
  assert.deepEqual(t.entries, [{ kind: 'message', text: 'a' }]);
});

test('the end of a turn records the session and shows stops other than end_turn', () => {
  const t = empty_transcript();
  begin_turn(t, 'x');
  end_turn(t, { sessionId: 'abc', stopReason: 'end_turn' });
  assert.equal(t.running, false);
  assert.equal(t.sessionId, 'abc');
  assert.equal(t.entries.length, 1);
  begin_turn(t, 'y');
  end_turn(t, { sessionId: 'abc', stopReason: 'cancelled' });
  assert.deepEqual(t.entries[t.entries.length - 1], { kind: 'notice', text: 'cancelled' });
  begin_turn(t, 'z');
  end_turn(t, undefined, 'connection lost');
  assert.deepEqual(t.entries[t.entries.length - 1], { kind: 'notice', text: 'error: connection lost' });
});

test('tool content shows text, diffs and terminals and skips junk', () => {
  const text = tool_content_text({
    toolCallId: 't',
    content: [
      { type: 'content', content: { type: 'text', text: 'output' } },
      { type: 'diff', path: 'a.txt', oldText: 'x\ny\nz', newText: 'x\nY\nz' },
      { type: 'terminal', terminalId: 'term-1' },
      { type: 'diff' }, 7, null,
    ],
  });
  assert.equal(text, 'output\nedit a.txt\n- y\n+ Y\n[terminal term-1]');
});

test('a diff of a new file shows every line as added', () => {
  assert.equal(diff_text('n.txt', null, 'a\nb'), 'new file n.txt\n+ a\n+ b');
  assert.equal(diff_text('same.txt', 'a', 'a'), 'edit same.txt');
});
