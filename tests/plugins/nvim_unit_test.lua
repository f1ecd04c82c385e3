-- Unit tests of plugins/nvim's pure modules (transcript, args) inside
-- `nvim --headless` (see nvim_test.sh). Prints "N passed, 0 failed" and
-- exits 0, or names each failure and exits 1.

local transcript = require('beluga.transcript')
local args = require('beluga.args')

local passed, failed = 0, 0
local function test(name, f)
  local ok, err = pcall(f)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write('FAIL ' .. name .. ': ' .. tostring(err) .. '\n')
  end
end
local function eq(a, b, what)
  if not vim.deep_equal(a, b) then
    error((what or 'values differ') .. ':\n  got      ' .. vim.inspect(a) .. '\n  expected ' .. vim.inspect(b), 2)
  end
end

local function r(l1, c1, l2, c2)
  return { start = { line = l1, character = c1 }, ['end'] = { line = l2, character = c2 } }
end

test('chunks of one kind join and kinds alternate in order', function()
  local t = transcript.new()
  transcript.begin_turn(t, 'hi')
  assert(transcript.apply(t, { sessionId = 's', kind = 'thought', text = 'a' }))
  transcript.apply(t, { sessionId = 's', kind = 'thought', text = 'b' })
  transcript.apply(t, { sessionId = 's', kind = 'message', text = 'Hel' })
  transcript.apply(t, { sessionId = 's', kind = 'message', text = 'lo\nthere' })
  eq(t.entries, { { kind = 'user', text = 'hi' }, { kind = 'thought', text = 'ab' },
                  { kind = 'message', text = 'Hello\nthere' } })
  eq(transcript.render(t), { '## You', 'hi', '', '## beluga', '> ab', 'Hello', 'there', '(working…)' })
end)

test('tool call updates merge by id and JSON nulls keep old fields', function()
  local t = transcript.new()
  transcript.apply(t, { sessionId = 's', kind = 'tool_call', toolCall = { toolCallId = '1', title = 'write a', status = 'pending' } })
  transcript.apply(t, { sessionId = 's', kind = 'tool_call_update', toolCall = { toolCallId = '1', status = 'completed', title = vim.NIL,
    content = { { type = 'content', content = { type = 'text', text = 'ok' } }, { type = 'diff', path = 'a', newText = 'x' } } } })
  eq(#t.entries, 1)
  eq(t.entries[1].call.title, 'write a')
  eq(transcript.render(t), { '- ✓ write a', '    ok', '    new file a' })
end)

test('plans replace the plan of the same turn and render as checklists', function()
  local t = transcript.new()
  transcript.begin_turn(t, 'x')
  transcript.apply(t, { sessionId = 's', kind = 'plan', plan = { entries = { { content = 'a', status = 'pending', priority = 'high' } } } })
  transcript.apply(t, { sessionId = 's', kind = 'plan', plan = { entries = { { content = 'a', status = 'completed', priority = 'high' }, { content = 'b', status = 'in_progress' } } } })
  transcript.end_turn(t, { sessionId = 's', stopReason = 'max_tokens' })
  eq(transcript.render(t), { '## You', 'x', '', '## beluga', 'Plan:', '  [x] a (high)', '  [~] b',
                             '(stopped: the answer reached the token limit)' })
end)

test('malformed updates and other sessions are refused', function()
  local t = transcript.new()
  for _, bad in ipairs({ 1, 'x', {}, { kind = 'message' }, { kind = 'tool_call', toolCall = {} },
                         { kind = 'plan', plan = {} }, { kind = 'zzz', text = 'a' }, { kind = 'usage', text = 3 } }) do
    eq(transcript.apply(t, bad), false, vim.inspect(bad))
  end
  transcript.apply(t, { sessionId = 'mine', kind = 'message', text = 'a' })
  eq(transcript.apply(t, { sessionId = 'other', kind = 'message', text = 'b' }), false)
  transcript.apply(t, { sessionId = 'mine', kind = 'usage', usage = { used = 300, size = 1000 } })
  eq(transcript.render(t), { 'a', '(context 300 / 1000 tokens (30%))' })
  eq(transcript.apply(t, { sessionId = 'mine', kind = 'usage', usage = { used = 1, size = 0 } }), false)
end)

test('errors end the turn with a notice', function()
  local t = transcript.new()
  transcript.begin_turn(t, 'q')
  transcript.end_turn(t, nil, 'gone')
  eq(t.running, false)
  eq(t.entries[#t.entries], { kind = 'notice', text = 'error: gone' })
end)

test('action arguments carry the selection or the cursor line', function()
  eq(args.build('beluga.explain', 'file:///a', r(1, 2, 3, 4), {}), { uri = 'file:///a', range = r(1, 2, 3, 4) })
  eq(args.build('beluga.writeTests', 'file:///a', r(5, 3, 5, 3), {}), { uri = 'file:///a', range = r(5, 0, 6, 0) })
  local a, err = args.build('beluga.implement', nil, r(0, 0, 0, 0), {})
  eq(a, nil)
  assert(err:find('no file'))
end)

test('fix takes the most severe diagnostic touching the selection', function()
  local warn = { range = r(2, 0, 2, 3), severity = 2, message = 'w' }
  local err = { range = r(2, 5, 2, 9), severity = 1, message = 'e' }
  local far = { range = r(9, 0, 9, 1), severity = 1, message = 'f' }
  eq(args.build('beluga.fix', 'file:///a', r(2, 0, 2, 0), { warn, far, err }),
     { uri = 'file:///a', range = err.range, diagnostic = err })
  local none = args.build('beluga.fix', 'file:///a', r(4, 0, 4, 0), { warn, far, err })
  eq(none, nil)
end)

test('ask needs a prompt; a code action without one asks for it', function()
  eq(args.build('beluga.ask', nil, nil, {}, '  why  '), { prompt = 'why' })
  eq(args.build('beluga.ask', 'file:///a', r(0, 0, 1, 0), {}, ''), nil)
  eq(args.needs_prompt('beluga.ask', { { uri = 'u' } }), true)
  eq(args.needs_prompt('beluga.ask', { { prompt = 'p' } }), false)
  eq(args.needs_prompt('beluga.explain', {}), false)
end)

test('command turns are labelled with file, lines and prompt', function()
  eq(args.label('beluga.explain', { uri = 'file:///w/my%20calc.py', range = r(2, 0, 5, 0) }), 'Explain (beluga): my calc.py:3-5')
  eq(args.label('beluga.fix', { uri = 'file:///w/a.cpp', range = r(8, 4, 8, 9) }), 'Fix this diagnostic (beluga): a.cpp:9')
  eq(args.label('beluga.ask', { prompt = 'why?' }), 'Ask beluga… — why?')
  local t = transcript.new()
  transcript.begin_command(t, 'Explain (beluga): a.py:1')
  transcript.apply(t, { sessionId = 's', kind = 'message', text = 'It adds.' })
  transcript.end_command(t, { sessionId = 's', stopReason = 'cancelled' })
  eq(t.running, false)
  eq(transcript.render(t), { '## You', 'Explain (beluga): a.py:1', '', '## beluga', 'It adds.', '(cancelled)' })
end)

test('setup defines the user commands and, when asked, the keymaps', function()
  local beluga = require('beluga')
  beluga.setup({ autostart = false, keymaps = { explain = '<leader>E', sessions = '<leader>S' } })
  for _, c in ipairs({ 'BelugaExplain', 'BelugaFix', 'BelugaImplement', 'BelugaWriteTests', 'BelugaAsk', 'BelugaChat',
                       'BelugaChatClear', 'BelugaCancel', 'BelugaSessions', 'BelugaRewind', 'BelugaStatus', 'BelugaStart' }) do
    eq(vim.fn.exists(':' .. c), 2, c)
  end
  assert(vim.fn.maparg('<leader>E', 'n'):find('BelugaExplain'))
  assert(vim.fn.maparg('<leader>E', 'x'):find('BelugaExplain'))
  assert(vim.fn.maparg('<leader>S', 'n'):find('BelugaSessions'))
  eq(vim.fn.maparg('<leader>bf', 'n'), '')  -- only the ones asked for
  eq(type(vim.lsp.commands['beluga.ask']), 'function')
end)

test('options become the command line and the initialization options', function()
  local beluga = require('beluga')
  beluga.setup({ autostart = false, path = '/opt/beluga', model = 'replay:/m.jsonl', mode = 'plan', log_level = 'debug', show_answers = false })
  eq(beluga.cmd(), { '/opt/beluga', 'lsp', '--model', 'replay:/m.jsonl', '--log-level', 'debug' })
  eq(beluga.init_options(), { model = 'replay:/m.jsonl', mode = 'plan', showAnswers = false })
  beluga.setup({ autostart = false, cmd = { 'x', 'lsp' } })
  eq(beluga.cmd(), { 'x', 'lsp' })
  eq(beluga.init_options(), {})
  eq(beluga.statusline(), 'beluga starting')
  beluga.handlers['beluga/status'](nil, { state = 'busy', message = 'explain a.py' })
  eq(beluga.statusline(), 'beluga busy: explain a.py')
end)

io.stdout:write(string.format('\n%d passed, %d failed\n', passed, failed))
if failed > 0 then vim.cmd('cquit 1') else vim.cmd('qall!') end
