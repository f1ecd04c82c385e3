-- Arguments of the five beluga commands (workspace/executeCommand), built
-- from plain data: a document uri, a selection as an LSP range, the
-- document's diagnostics as LSP diagnostics. Pure Lua; the same rules as
-- plugins/vscode/src/lib/commands.ts.

local M = {}

M.titles = {
  ['beluga.explain'] = 'Explain (beluga)',
  ['beluga.fix'] = 'Fix this diagnostic (beluga)',
  ['beluga.implement'] = 'Implement / complete this (beluga)',
  ['beluga.writeTests'] = 'Write tests for this (beluga)',
  ['beluga.ask'] = 'Ask beluga…',
}
M.commands = { 'beluga.explain', 'beluga.fix', 'beluga.implement', 'beluga.writeTests', 'beluga.ask' }

local function before(a, b)
  return a.line < b.line or (a.line == b.line and a.character < b.character)
end

function M.is_empty(r)
  return r.start.line == r['end'].line and r.start.character == r['end'].character
end

function M.intersects(a, b)
  return not before(a['end'], b.start) and not before(b['end'], a.start)
end

-- An empty selection stands for the cursor's line.
function M.action_range(sel)
  if not M.is_empty(sel) then return sel end
  return { start = { line = sel.start.line, character = 0 }, ['end'] = { line = sel.start.line + 1, character = 0 } }
end

-- The most severe diagnostic touching the selection (the cursor's line for
-- an empty one), then the first in the document.
function M.pick_diagnostic(sel, diagnostics)
  local probe = sel
  if M.is_empty(sel) then
    probe = { start = { line = sel.start.line, character = 0 }, ['end'] = { line = sel.start.line, character = 2 ^ 31 } }
  end
  local best
  for _, d in ipairs(diagnostics or {}) do
    if type(d) == 'table' and type(d.range) == 'table' and M.intersects(d.range, probe) then
      if best == nil then
        best = d
      else
        local sd, sb = d.severity or 1, best.severity or 1
        if sd < sb or (sd == sb and before(d.range.start, best.range.start)) then best = d end
      end
    end
  end
  return best
end

-- Returns args or nil, error.
function M.build(command, uri, sel, diagnostics, prompt)
  if command == 'beluga.ask' then
    local text = vim.trim(prompt or '')
    if text == '' then return nil, 'Ask beluga: the prompt is empty' end
    if not uri then return { prompt = text } end
    return { uri = uri, range = sel, prompt = text }
  end
  if not M.titles[command] then return nil, 'unknown beluga command ' .. tostring(command) end
  if not uri then return nil, M.titles[command] .. ': no file' end
  if command == 'beluga.fix' then
    local d = M.pick_diagnostic(sel, diagnostics)
    if not d then return nil, 'Fix this diagnostic (beluga): no diagnostic at the cursor or selection' end
    return { uri = uri, range = d.range, diagnostic = d }
  end
  return { uri = uri, range = M.action_range(sel) }
end

-- A server code action "Ask beluga…" without a prompt: the editor asks.
function M.needs_prompt(command, args)
  if command ~= 'beluga.ask' then return false end
  local first = args and args[1]
  return type(first) ~= 'table' or type(first.prompt) ~= 'string' or vim.trim(first.prompt) == ''
end

-- How a command's turn is introduced in the chat transcript:
-- "Explain (beluga): calc.py:3-5", "Ask beluga…: calc.py:3 — why?".
function M.label(command, a)
  local where = ''
  if type(a.uri) == 'string' then
    where = a.uri:gsub('^%a+://[^/]*', ''):gsub('%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end)
    where = where:match('[^/]*$') or where
    if type(a.range) == 'table' then
      local first = a.range.start.line + 1
      local last = a.range['end'].line + (a.range['end'].character > 0 and 1 or 0)
      if last < first then last = first end
      where = where .. (first == last and (':' .. first) or (':' .. first .. '-' .. last))
    end
  end
  local title = M.titles[command] or command
  local prompt = (type(a.prompt) == 'string' and a.prompt ~= '') and (' — ' .. a.prompt) or ''
  if where ~= '' then return title .. ': ' .. where .. prompt end
  return title .. prompt
end

return M
