import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  EditorContext, action_range, build_arguments, command_label, intersects, needs_prompt, pick_diagnostic, with_prompt,
} from '../lib/commands';
import { Diagnostic, Range } from '../lib/protocol';

const r = (l1: number, c1: number, l2: number, c2: number): Range =>
  ({ start: { line: l1, character: c1 }, end: { line: l2, character: c2 } });
const diag = (range: Range, severity: number, message: string): Diagnostic => ({ range, severity, message });

const editor = (selection: Range, diagnostics: Diagnostic[] = []): EditorContext =>
  ({ uri: 'file:///w/a.cpp', selection, diagnostics });

test('explain, implement and tests send the selection', () => {
  for (const c of ['beluga.explain', 'beluga.implement', 'beluga.writeTests'] as const) {
    assert.deepEqual(build_arguments(c, editor(r(2, 1, 4, 0))),
                     { ok: true, args: { uri: 'file:///w/a.cpp', range: r(2, 1, 4, 0) } });
  }
});

test('an empty selection stands for the cursor line', () => {
  assert.deepEqual(action_range(r(7, 3, 7, 3)), r(7, 0, 8, 0));
  assert.deepEqual(build_arguments('beluga.explain', editor(r(7, 3, 7, 3))),
                   { ok: true, args: { uri: 'file:///w/a.cpp', range: r(7, 0, 8, 0) } });
});

test('fix picks the most severe diagnostic touching the selection and sends its range', () => {
  const warning = diag(r(3, 0, 3, 5), 2, 'unused');
  const error = diag(r(3, 8, 3, 12), 1, 'no such member');
  const elsewhere = diag(r(20, 0, 20, 1), 1, 'far away');
  const built = build_arguments('beluga.fix', editor(r(3, 0, 3, 20), [warning, elsewhere, error]));
  assert.deepEqual(built, { ok: true, args: { uri: 'file:///w/a.cpp', range: error.range, diagnostic: error } });
});

test('fix with a cursor uses the diagnostics of its line', () => {
  const d = diag(r(5, 10, 5, 14), 1, 'x');
  assert.equal(pick_diagnostic(r(5, 0, 5, 0), [d]), d);
  assert.equal(pick_diagnostic(r(6, 0, 6, 0), [d]), undefined);
});

test('fix without a diagnostic or without an editor is an error, not a call', () => {
  const none = build_arguments('beluga.fix', editor(r(1, 0, 1, 0)));
  assert.equal(none.ok, false);
  assert.equal(build_arguments('beluga.explain', undefined).ok, false);
});

test('ask needs a non-empty prompt and works without an editor', () => {
  assert.equal(build_arguments('beluga.ask', editor(r(0, 0, 0, 0)), '   ').ok, false);
  assert.equal(build_arguments('beluga.ask', editor(r(0, 0, 0, 0))).ok, false);
  assert.deepEqual(build_arguments('beluga.ask', undefined, ' why? '), { ok: true, args: { prompt: 'why?' } });
  assert.deepEqual(build_arguments('beluga.ask', editor(r(1, 0, 2, 0)), 'why?'),
                   { ok: true, args: { uri: 'file:///w/a.cpp', range: r(1, 0, 2, 0), prompt: 'why?' } });
});

test('ranges that only touch at an edge intersect', () => {
  assert.ok(intersects(r(1, 0, 1, 5), r(1, 5, 1, 9)));
  assert.ok(!intersects(r(1, 0, 1, 4), r(1, 5, 1, 9)));
  assert.ok(intersects(r(0, 0, 9, 0), r(3, 3, 3, 3)));
});

test('a server code action for ask gets the prompt added and keeps its range', () => {
  const args = [{ uri: 'file:///w/a.cpp', range: r(1, 0, 2, 0) }];
  assert.ok(needs_prompt('beluga.ask', args));
  assert.ok(needs_prompt('beluga.ask', []));
  assert.ok(!needs_prompt('beluga.ask', [{ prompt: 'already' }]));
  assert.ok(!needs_prompt('beluga.explain', args));
  assert.deepEqual(with_prompt(args, 'rename it'),
                   [{ uri: 'file:///w/a.cpp', range: r(1, 0, 2, 0), prompt: 'rename it' }]);
  assert.deepEqual(with_prompt([], 'p'), [{ prompt: 'p' }]);
});

test('command labels name the file, the lines and the prompt', () => {
  assert.equal(command_label('beluga.explain', { uri: 'file:///w/src/calc%20x.py', range: r(2, 0, 5, 0) }),
               'Explain (beluga): calc x.py:3-5');
  assert.equal(command_label('beluga.fix', { uri: 'file:///w/a.cpp', range: r(8, 4, 8, 9) }),
               'Fix this diagnostic (beluga): a.cpp:9');
  assert.equal(command_label('beluga.ask', { uri: 'file:///w/a.cpp', range: r(0, 0, 0, 0), prompt: 'why?' }),
               'Ask beluga…: a.cpp:1 — why?');
  assert.equal(command_label('beluga.ask', { prompt: 'what is this repo?' }), 'Ask beluga… — what is this repo?');
});
