-- beluga for Neovim's built-in LSP client: starts `beluga lsp` for the
-- buffers of a workspace (vim.lsp.start on 0.8+, vim.lsp.start_client +
-- buf_attach_client on 0.7), adds user commands for the five actions, the
-- chat buffer, sessions, rewind and cancel, opt-in keymaps, and a status
-- function fed by beluga/status. The contract is docs/protocol.md ("LSP
-- bridge"); set-up in plugins/nvim/README.md.
--
--   require('beluga').setup({ model = 'replay:/path/model.jsonl', keymaps = true })

local args_mod = require('beluga.args')
local chat = require('beluga.chat')
local compat = require('beluga.compat')
local transcript = require('beluga.transcript')

local M = {}

local defaults = {
  path = 'beluga',          -- the executable
  cmd = nil,                -- the whole command line (overrides path/model/log_level)
  model = nil,              -- checkpoint folder or replay:FILE, for a daemon the server starts
  mode = nil,               -- default | auto-edit | plan | yolo
  log_level = nil,          -- info | debug
  show_answers = nil,       -- false: a command's answer only in the chat buffer, not as a message
  root_markers = { '.git' },
  filetypes = nil,          -- nil: every file buffer; else a list
  autostart = true,         -- false: commands only (e.g. the client comes from nvim-lspconfig)
  keymaps = false,          -- true: the defaults below; or a table of action = lhs
  chat_split = 'vsplit',
}

M.default_keymaps = {
  explain = '<leader>be', fix = '<leader>bf', implement = '<leader>bi', tests = '<leader>bt',
  ask = '<leader>ba', chat = '<leader>bc', sessions = '<leader>bs', rewind = '<leader>br',
  cancel = '<leader>bx',
}

M.options = vim.deepcopy(defaults)
M.status = { state = 'starting', message = '' }

local clients_by_root = {}   -- 0.7 path: root_dir -> client id

function M.cmd()
  local o = M.options
  if o.cmd then return o.cmd end
  local cmd = { o.path, 'lsp' }
  if o.model and o.model ~= '' then vim.list_extend(cmd, { '--model', o.model }) end
  if o.log_level and o.log_level ~= '' then vim.list_extend(cmd, { '--log-level', o.log_level }) end
  return cmd
end

function M.init_options()
  local init = {}
  if M.options.model and M.options.model ~= '' then init.model = M.options.model end
  if M.options.mode and M.options.mode ~= '' then init.mode = M.options.mode end
  if M.options.show_answers ~= nil then init.showAnswers = M.options.show_answers end
  return init
end

local function on_status(_, result)
  if type(result) ~= 'table' then return end
  local was = M.status.state
  M.status = { state = result.state or 'disconnected', message = result.message or '' }
  if M.status.state == 'disconnected' and was ~= 'disconnected' then
    vim.notify('beluga: ' .. (M.status.message ~= '' and M.status.message or 'disconnected'), vim.log.levels.WARN)
  end
  vim.cmd('redrawstatus')
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'BelugaStatus', modeline = false })
end

-- The handlers beluga's client needs beyond Neovim's defaults.
M.handlers = {
  ['beluga/chatUpdate'] = function(_, result) chat.on_update(result) end,
  ['beluga/status'] = on_status,
}

-- For a statusline: "beluga ready", "beluga busy: explain a.cpp", ...
function M.statusline()
  local s = M.status
  if s.state == 'busy' and s.message ~= '' then return 'beluga busy: ' .. s.message end
  return 'beluga ' .. s.state
end

local function find_root(path)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  while dir and dir ~= '' do
    for _, marker in ipairs(M.options.root_markers) do
      if vim.loop.fs_stat(dir .. '/' .. marker) then return dir end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then break end
    dir = parent
  end
  return vim.fn.getcwd()
end

-- The client configuration for a workspace root (also what lua/beluga/
-- lspconfig.lua hands nvim-lspconfig).
function M.client_config(root_dir)
  return {
    name = 'beluga',
    cmd = M.cmd(),
    root_dir = root_dir,
    workspace_folders = { { uri = vim.uri_from_fname(root_dir), name = root_dir } },
    init_options = M.init_options(),
    handlers = M.handlers,
  }
end

local function wanted(bufnr)
  if vim.api.nvim_buf_get_option(bufnr, 'buftype') ~= '' then return false end
  if vim.api.nvim_buf_get_name(bufnr) == '' then return false end
  local fts = M.options.filetypes
  if not fts then return true end
  return vim.tbl_contains(fts, vim.api.nvim_buf_get_option(bufnr, 'filetype'))
end

-- Starts (or reuses) the workspace's client and attaches bufnr; returns the
-- client id.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not wanted(bufnr) then return nil end
  local root = find_root(vim.api.nvim_buf_get_name(bufnr))
  if vim.lsp.start then
    return vim.lsp.start(M.client_config(root), { bufnr = bufnr })
  end
  local id = clients_by_root[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or compat.is_stopped(client) then
    id = vim.lsp.start_client(M.client_config(root))
    if not id then return nil end
    clients_by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

-- The beluga client of the current buffer, else any running one.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local any
  for _, c in ipairs(compat.get_clients()) do
    if c.name == 'beluga' and not compat.is_stopped(c) then
      if vim.lsp.buf_is_attached(bufnr, c.id) then return c end
      any = any or c
    end
  end
  return any
end

local function need_client()
  local c = M.client()
  if not c then vim.notify('beluga: the language server is not running (:BelugaStart)', vim.log.levels.ERROR) end
  return c
end

-- A byte column of line (0-based line) as an LSP character in the client's encoding.
local function lsp_character(bufnr, line, byte_col, encoding)
  if encoding == 'utf-8' then return byte_col end
  local text = vim.api.nvim_buf_get_lines(bufnr, line, line + 1, false)[1] or ''
  byte_col = math.min(byte_col, #text)
  local ok, utf32, utf16 = pcall(vim.str_utfindex, text, byte_col)
  if not ok then return byte_col end
  return encoding == 'utf-32' and utf32 or utf16
end

-- The selection of a user command as an LSP range: the visual selection when
-- the command's range is the last visual one, whole lines for another range,
-- the cursor otherwise.
function M.selection_range(opts, bufnr, encoding)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if opts and opts.range and opts.range > 0 then
    local s, e = vim.fn.getpos("'<"), vim.fn.getpos("'>")
    if s[2] == opts.line1 and e[2] == opts.line2 then
      local last_line = vim.api.nvim_buf_get_lines(bufnr, e[2] - 1, e[2], false)[1] or ''
      local end_byte = math.min(e[3], #last_line)
      local ch = last_line:sub(end_byte):match('^[%z\1-\127\194-\244][\128-\191]*') or ''
      end_byte = math.min(#last_line, end_byte - 1 + math.max(#ch, 1))
      return {
        start = { line = s[2] - 1, character = lsp_character(bufnr, s[2] - 1, s[3] - 1, encoding) },
        ['end'] = { line = e[2] - 1, character = lsp_character(bufnr, e[2] - 1, end_byte, encoding) },
      }
    end
    return { start = { line = opts.line1 - 1, character = 0 }, ['end'] = { line = opts.line2, character = 0 } }
  end
  local cur = vim.api.nvim_win_get_cursor(0)
  local ch = lsp_character(bufnr, cur[1] - 1, cur[2], encoding)
  return { start = { line = cur[1] - 1, character = ch }, ['end'] = { line = cur[1] - 1, character = ch } }
end

-- The buffer's diagnostics as LSP diagnostics (the original ones where an
-- LSP server sent them).
function M.lsp_diagnostics(bufnr, encoding)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.user_data and type(d.user_data.lsp) == 'table' and d.user_data.lsp.range then
      table.insert(out, d.user_data.lsp)
    else
      table.insert(out, {
        range = {
          start = { line = d.lnum, character = lsp_character(bufnr, d.lnum, d.col, encoding) },
          ['end'] = { line = d.end_lnum or d.lnum, character = lsp_character(bufnr, d.end_lnum or d.lnum, d.end_col or d.col, encoding) },
        },
        severity = d.severity, message = d.message, source = d.source, code = d.code,
      })
    end
  end
  return out
end

local function report(err, result)
  if err then
    vim.notify('beluga: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
  elseif type(result) == 'table' and result.stopReason and result.stopReason ~= 'end_turn' then
    vim.notify('beluga: ' .. transcript.stop_reason_text(result.stopReason), vim.log.levels.WARN)
  end
end

-- Runs a command's turn; its answer streams into the chat transcript (and,
-- unless show_answers is false, the server also shows it as a message).
function M.execute(client, command, args, bufnr)
  chat.begin_command(args_mod.label(command, args))
  compat.request(client, 'workspace/executeCommand', { command = command, arguments = { args } }, function(err, result)
    chat.end_command(result, err and (err.message or vim.inspect(err)) or nil)
    report(err, result)
  end, bufnr)
end

-- Runs one of the five commands on the selection of a user command.
function M.run(command, opts)
  local client = need_client()
  if not client then return end
  local bufnr = vim.api.nvim_get_current_buf()
  local encoding = client.offset_encoding or 'utf-16'
  local uri = vim.api.nvim_buf_get_name(bufnr) ~= '' and vim.uri_from_bufnr(bufnr) or nil
  local sel = M.selection_range(opts, bufnr, encoding)
  local function go(prompt)
    local a, err = args_mod.build(command, uri, sel, M.lsp_diagnostics(bufnr, encoding), prompt)
    if not a then
      vim.notify(err, vim.log.levels.ERROR)
      return
    end
    M.execute(client, command, a, bufnr)
  end
  if command ~= 'beluga.ask' then return go(nil) end
  local given = opts and opts.args or ''
  if given ~= '' then return go(given) end
  vim.ui.input({ prompt = 'Ask beluga: ' }, function(input) if input then go(input) end end)
end

-- "Ask beluga…" chosen from the code action menu: ask for the prompt here
-- (vim.lsp.commands runs before the server's executeCommand).
local function ask_code_action(command, ctx)
  local args = command.arguments or {}
  if not args_mod.needs_prompt(command.command, args) then
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then M.execute(client, command.command, args[1], ctx.bufnr) end
    return
  end
  vim.ui.input({ prompt = 'Ask beluga: ' }, function(input)
    if not input or vim.trim(input) == '' then return end
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if not client then return end
    local a = vim.deepcopy(type(args[1]) == 'table' and args[1] or {})
    a.prompt = vim.trim(input)
    M.execute(client, command.command, a, ctx.bufnr)
  end)
end

function M.chat(text, opts)
  chat.open(M.options.chat_split)
  if not text or vim.trim(text) == '' then return end
  local client = need_client()
  if not client then return end
  local context
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.api.nvim_buf_get_name(bufnr) ~= '' and vim.bo[bufnr].buftype == '' then
    context = { uri = vim.uri_from_bufnr(bufnr) }
    if opts and opts.range and opts.range > 0 then
      context.range = M.selection_range(opts, bufnr, client.offset_encoding or 'utf-16')
    end
  end
  chat.send(client, vim.trim(text), context)
end

function M.cancel()
  local client = need_client()
  if not client then return end
  local params = chat.t.running and chat.t.session_id and { sessionId = chat.t.session_id } or {}
  compat.request(client, 'beluga/cancel', params, function(err) if err then report(err) end end)
end

function M.rewind(session_id)
  local client = need_client()
  if not client then return end
  if vim.fn.confirm('Undo the last beluga turn? Files it changed are restored.', '&Rewind\n&Cancel', 2) ~= 1 then
    return
  end
  compat.request(client, 'beluga/rewind', session_id and { sessionId = session_id } or {}, function(err, result)
    if err then return report(err) end
    local restored = type(result) == 'table' and type(result.restored) == 'table' and result.restored or {}
    vim.cmd('checktime')
    vim.notify(#restored == 0 and 'beluga: rewound; no files needed restoring'
      or ('beluga: rewound; restored ' .. table.concat(restored, ', ')))
  end)
end

function M.sessions()
  local client = need_client()
  if not client then return end
  compat.request(client, 'beluga/sessions', {}, function(err, result)
    if err then return report(err) end
    local list = type(result) == 'table' and type(result.sessions) == 'table' and result.sessions or {}
    if #list == 0 then return vim.notify('beluga: no sessions yet') end
    vim.ui.select(list, {
      prompt = 'beluga sessions',
      format_item = function(s)
        local title = (type(s.title) == 'string' and s.title ~= '') and s.title or '(untitled)'
        return string.format('%s  [%s]  %s', title, tostring(s.sessionId), tostring(s.updatedAt or ''))
      end,
    }, function(s)
      if not s then return end
      vim.ui.select({ 'Rewind its last turn', 'Copy the session id' }, { prompt = tostring(s.sessionId) }, function(a)
        if a == 'Rewind its last turn' then M.rewind(s.sessionId)
        elseif a == 'Copy the session id' then vim.fn.setreg('+', s.sessionId); vim.fn.setreg('"', s.sessionId) end
      end)
    end)
  end)
end

local function user_commands()
  local cmd = vim.api.nvim_create_user_command
  local actions = { Explain = 'beluga.explain', Fix = 'beluga.fix', Implement = 'beluga.implement',
                    WriteTests = 'beluga.writeTests' }
  for name, command in pairs(actions) do
    cmd('Beluga' .. name, function(o) M.run(command, o) end, { range = true, desc = args_mod.titles[command] })
  end
  cmd('BelugaAsk', function(o) M.run('beluga.ask', o) end, { range = true, nargs = '*', desc = 'Ask beluga…' })
  cmd('BelugaChat', function(o) M.chat(o.args, o) end, { range = true, nargs = '*', desc = 'beluga chat' })
  cmd('BelugaChatClear', function() chat.clear() end, {})
  cmd('BelugaCancel', function() M.cancel() end, {})
  cmd('BelugaSessions', function() M.sessions() end, {})
  cmd('BelugaRewind', function() M.rewind(nil) end, {})
  cmd('BelugaStatus', function() print(M.statusline() .. (M.status.message ~= '' and (' — ' .. M.status.message) or '')) end, {})
  cmd('BelugaStart', function() M.attach(0) end, {})
end

local function keymaps(spec)
  local maps = spec == true and M.default_keymaps or spec
  local ranged = { explain = 'BelugaExplain', fix = 'BelugaFix', implement = 'BelugaImplement',
                   tests = 'BelugaWriteTests', ask = 'BelugaAsk', chat = 'BelugaChat' }
  local plain = { sessions = 'BelugaSessions', rewind = 'BelugaRewind', cancel = 'BelugaCancel' }
  for action, lhs in pairs(maps) do
    if ranged[action] then
      vim.keymap.set('n', lhs, '<cmd>' .. ranged[action] .. '<CR>', { desc = 'beluga ' .. action })
      -- ':' in visual mode inserts the '<,'> range, so the selection goes along.
      vim.keymap.set('x', lhs, ':' .. ranged[action] .. '<CR>', { desc = 'beluga ' .. action, silent = true })
    elseif plain[action] then
      vim.keymap.set('n', lhs, '<cmd>' .. plain[action] .. '<CR>', { desc = 'beluga ' .. action })
    else
      vim.notify('beluga: unknown keymap action ' .. tostring(action), vim.log.levels.WARN)
    end
  end
end

function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  vim.lsp.commands['beluga.ask'] = ask_code_action
  user_commands()
  if M.options.keymaps then keymaps(M.options.keymaps) end
  if M.options.autostart then
    local group = vim.api.nvim_create_augroup('beluga', { clear = true })
    vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, {
      group = group, callback = function(ev) M.attach(ev.buf) end,
    })
    if M.options.filetypes then
      vim.api.nvim_create_autocmd('FileType', { group = group, callback = function(ev) M.attach(ev.buf) end })
    end
    for _, b in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(b) then M.attach(b) end
    end
  end
end

return M
