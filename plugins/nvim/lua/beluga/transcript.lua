-- The chat transcript, assembled from beluga/chatUpdate notifications, and
-- its rendering as buffer lines. Pure Lua (no vim.api), so the headless unit
-- test drives it directly. The same rules as plugins/vscode/src/lib/
-- transcript.ts: chunks of one kind join one entry, tool calls merge by
-- toolCallId, a plan replaces the plan of the same turn, usage is a line of
-- its own; malformed notifications are ignored (apply returns false).

local M = {}

function M.new()
  return { entries = {}, running = false, session_id = nil, usage = nil }
end

function M.begin_turn(t, text)
  table.insert(t.entries, { kind = 'user', text = text })
  t.running = true
end

local stop_texts = {
  end_turn = 'done',
  cancelled = 'cancelled',
  max_tokens = 'stopped: the answer reached the token limit',
  max_turn_requests = 'stopped: the turn reached its step limit',
  refusal = 'the model refused',
}

function M.stop_reason_text(reason)
  return stop_texts[reason] or ('stopped: ' .. tostring(reason))
end

-- A command (Explain, Fix, ...) started a turn in the workspace session; its
-- updates arrive here too, so the transcript says what asked for them. The
-- chat stays free (running is about beluga/chat only).
function M.begin_command(t, label)
  table.insert(t.entries, { kind = 'user', text = label })
end

function M.end_command(t, result, err)
  if err ~= nil then
    table.insert(t.entries, { kind = 'notice', text = 'error: ' .. tostring(err) })
  elseif type(result) == 'table' and type(result.stopReason) == 'string' and result.stopReason ~= 'end_turn' then
    table.insert(t.entries, { kind = 'notice', text = M.stop_reason_text(result.stopReason) })
  end
end

-- {used, size} tokens -> "context 1234 / 65536 tokens (2%)".
function M.usage_text(u)
  if type(u) ~= 'table' or type(u.used) ~= 'number' or type(u.size) ~= 'number' or u.used < 0 or u.size <= 0 then
    return nil
  end
  return string.format('context %d / %d tokens (%d%%)', u.used, u.size, math.floor(100 * u.used / u.size + 0.5))
end

function M.end_turn(t, result, err)
  t.running = false
  if type(result) == 'table' and type(result.sessionId) == 'string' then
    t.session_id = result.sessionId
  end
  if err ~= nil then
    table.insert(t.entries, { kind = 'notice', text = 'error: ' .. tostring(err) })
  elseif type(result) == 'table' and type(result.stopReason) == 'string' and result.stopReason ~= 'end_turn' then
    table.insert(t.entries, { kind = 'notice', text = M.stop_reason_text(result.stopReason) })
  end
end

local function is_table(v) return type(v) == 'table' end

function M.parse_plan(v)
  if not is_table(v) or not is_table(v.entries) then return nil end
  local entries = {}
  for _, e in ipairs(v.entries) do
    if is_table(e) and type(e.content) == 'string' then
      table.insert(entries, {
        content = e.content,
        priority = type(e.priority) == 'string' and e.priority or nil,
        status = type(e.status) == 'string' and e.status or nil,
      })
    end
  end
  return { entries = entries }
end

local function find_tool(t, id)
  for i = #t.entries, 1, -1 do
    local e = t.entries[i]
    if e.kind == 'tool' and e.call.toolCallId == id then return e end
  end
  return nil
end

-- vim.NIL (JSON null) and nil both mean "not sent".
local function present(v) return v ~= nil and v ~= (vim and vim.NIL or nil) end

function M.apply(t, u)
  if not is_table(u) or type(u.kind) ~= 'string' then return false end
  if type(u.sessionId) == 'string' then
    if t.session_id ~= nil and t.session_id ~= u.sessionId then return false end
    t.session_id = u.sessionId
  end
  local kind = u.kind
  if kind == 'message' or kind == 'thought' then
    if type(u.text) ~= 'string' then return false end
    local last = t.entries[#t.entries]
    if last and last.kind == kind then
      last.text = last.text .. u.text
    else
      table.insert(t.entries, { kind = kind, text = u.text })
    end
    return true
  elseif kind == 'tool_call' or kind == 'tool_call_update' then
    local call = u.toolCall
    if not is_table(call) or type(call.toolCallId) ~= 'string' then return false end
    local existing = find_tool(t, call.toolCallId)
    if existing then
      for k, v in pairs(call) do
        if present(v) then existing.call[k] = v end
      end
    else
      local copy = {}
      for k, v in pairs(call) do
        if present(v) then copy[k] = v end
      end
      table.insert(t.entries, { kind = 'tool', call = copy })
    end
    return true
  elseif kind == 'plan' then
    local plan = M.parse_plan(u.plan)
    if not plan then return false end
    for i = #t.entries, 1, -1 do
      local e = t.entries[i]
      if e.kind == 'user' then break end
      if e.kind == 'plan' then
        e.plan = plan
        return true
      end
    end
    table.insert(t.entries, { kind = 'plan', plan = plan })
    return true
  elseif kind == 'usage' then
    local text = M.usage_text(u.usage) or (type(u.text) == 'string' and u.text or nil)
    if not text then return false end
    t.usage = text
    return true
  end
  return false
end

local plan_marks = { pending = '[ ]', in_progress = '[~]', completed = '[x]' }

function M.plan_lines(plan)
  local lines = {}
  for _, e in ipairs(plan.entries) do
    local mark = plan_marks[e.status or 'pending'] or '[ ]'
    local priority = (e.priority and e.priority ~= 'medium') and (' (' .. e.priority .. ')') or ''
    table.insert(lines, mark .. ' ' .. e.content .. priority)
  end
  return lines
end

local status_icons = { pending = '…', in_progress = '⟳', completed = '✓', failed = '✗' }

function M.tool_title(call)
  local icon = status_icons[call.status or 'pending'] or '•'
  local title = (type(call.title) == 'string' and call.title ~= '') and call.title
    or (type(call.kind) == 'string' and call.kind or 'tool')
  return icon .. ' ' .. title
end

-- Text blocks, diffs (path + new text) and terminals of an ACP tool call.
function M.tool_content_lines(call)
  local lines = {}
  if not is_table(call.content) then return lines end
  for _, c in ipairs(call.content) do
    if is_table(c) then
      if c.type == 'content' and is_table(c.content) and type(c.content.text) == 'string' then
        vim.list_extend(lines, vim.split(c.content.text, '\n', { plain = true }))
      elseif c.type == 'diff' and type(c.path) == 'string' then
        table.insert(lines, (type(c.oldText) == 'string' and 'edit ' or 'new file ') .. c.path)
      elseif c.type == 'terminal' and type(c.terminalId) == 'string' then
        table.insert(lines, '[terminal ' .. c.terminalId .. ']')
      end
    end
  end
  return lines
end

local function split(text)
  return vim.split(text, '\n', { plain = true })
end

-- Buffer lines (markdown-ish): headings for the speakers, "> " for thoughts,
-- "- " items for tool calls with their output indented.
function M.render(t)
  local lines = {}
  local function add(l) table.insert(lines, l) end
  for _, e in ipairs(t.entries) do
    if e.kind == 'user' then
      if #lines > 0 then add('') end
      add('## You')
      vim.list_extend(lines, split(e.text))
      add('')
      add('## beluga')
    elseif e.kind == 'message' then
      vim.list_extend(lines, split(e.text))
    elseif e.kind == 'thought' then
      for _, l in ipairs(split(e.text)) do add('> ' .. l) end
    elseif e.kind == 'tool' then
      add('- ' .. M.tool_title(e.call))
      for _, l in ipairs(M.tool_content_lines(e.call)) do add('    ' .. l) end
    elseif e.kind == 'plan' then
      add('Plan:')
      for _, l in ipairs(M.plan_lines(e.plan)) do add('  ' .. l) end
    elseif e.kind == 'notice' then
      add('(' .. e.text .. ')')
    end
  end
  if t.running then add('(working…)') end
  if t.usage then add('(' .. t.usage .. ')') end
  return lines
end

return M
