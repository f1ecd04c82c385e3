import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { escape_html, plan_html, plan_lines, plan_progress, tool_title, transcript_html } from '../lib/render';
import { apply_update, begin_turn, empty_transcript } from '../lib/transcript';

test('plan lines mark each status and name priorities other than medium', () => {
  const plan = { entries: [
    { content: 'read the code', priority: 'high', status: 'completed' },
    { content: 'change it', priority: 'medium', status: 'in_progress' },
    { content: 'test it', priority: 'low', status: 'pending' },
    { content: 'odd', status: 'weird' },
  ] };
  assert.deepEqual(plan_lines(plan), [
    '[x] read the code (high)', '[~] change it', '[ ] test it (low)', '[ ] odd',
  ]);
  assert.equal(plan_progress(plan), '1/4');
});

test('plan html escapes entries and classes unknown statuses as pending', () => {
  const html = plan_html({ entries: [{ content: '<b>x</b>', status: '"><script>' }] });
  assert.ok(html.includes('&lt;b&gt;x&lt;/b&gt;'));
  assert.ok(html.includes('class="plan-pending"'));
  assert.ok(!html.includes('<script>'));
});

test('escape_html escapes the five special characters', () => {
  assert.equal(escape_html(`<a href="x" title='y'>&</a>`),
               '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('tool titles carry a status icon and fall back to the kind', () => {
  assert.equal(tool_title({ toolCallId: 't', title: 'read a', status: 'completed' }), '✓ read a');
  assert.equal(tool_title({ toolCallId: 't', kind: 'execute', status: 'failed' }), '✗ execute');
  assert.equal(tool_title({ toolCallId: 't' }), '… tool');
});

test('the transcript renders every entry kind escaped, the running marker and usage', () => {
  const t = empty_transcript();
  begin_turn(t, 'fix <this>');
  apply_update(t, { sessionId: 's', kind: 'thought', text: 'hmm & so' });
  apply_update(t, { sessionId: 's', kind: 'tool_call', toolCall: {
    toolCallId: '1', title: 'edit a.h', status: 'in_progress',
    content: [{ type: 'content', content: { type: 'text', text: '<img src=x onerror=alert(1)>' } }] } });
  apply_update(t, { sessionId: 's', kind: 'plan', plan: { entries: [{ content: 'step', status: 'completed' }] } });
  apply_update(t, { sessionId: 's', kind: 'message', text: 'done' });
  apply_update(t, { sessionId: 's', kind: 'usage', text: '12 tokens' });
  const html = transcript_html(t);
  assert.ok(html.includes('<div class="user">fix &lt;this&gt;</div>'));
  assert.ok(html.includes('hmm &amp; so'));
  assert.ok(html.includes('class="tool tool-in_progress"'));
  assert.ok(html.includes('⟳ edit a.h'));
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(!html.includes('<img'));
  assert.ok(html.includes('Plan 1/1'));
  assert.ok(html.includes('<div class="message">done</div>'));
  assert.ok(html.includes('working…'));
  assert.ok(html.endsWith('<div class="usage">12 tokens</div>'));
});
