-- plugins/nvim against the real `beluga lsp` in `nvim --headless` (driven by
-- nvim_test.sh, which makes the private XDG folders, the workspace and the
-- replay model and passes them in the environment). Checks: the client
-- starts and attaches to a file buffer, the server offers the contract's
-- commands, a code action request for a range lists the five beluga
-- actions, beluga/status reaches ready, a chat message comes back through
-- beluga/chatUpdate into the chat buffer, and :BelugaExplain runs a turn
-- whose answer lands there too, as does the "Ask beluga…" code action's
-- after the plugin asked for the prompt. Prints "N passed, N failed"; exits 1 on any failure.

local env = vim.env
local beluga = require('beluga')
local chat = require('beluga.chat')
local args = require('beluga.args')
local compat = require('beluga.compat')
local kWaitMs = 120000  -- a loaded 2-core machine starts the daemon slowly

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write('FAIL ' .. name .. (detail and (': ' .. detail) or '') .. '\n')
  end
  return ok
end
local function finish()
  io.stdout:write(string.format('\n%d passed, %d failed\n', passed, failed))
  for _, c in ipairs(compat.get_clients()) do compat.stop(c) end
  vim.wait(5000, function() return #compat.get_clients() == 0 end, 50)
  if failed > 0 then vim.cmd('cquit 1') else vim.cmd('qall!') end
end

local ok, err = pcall(function()
  beluga.setup({ cmd = { env.BELUGA_BIN, 'lsp', '--model', 'replay:' .. env.BELUGA_MODEL } })
  vim.cmd('edit ' .. vim.fn.fnameescape(env.BELUGA_WORKSPACE .. '/calc.py'))
  local bufnr = vim.api.nvim_get_current_buf()

  local client
  local attached = vim.wait(kWaitMs, function()
    client = beluga.client(bufnr)
    return client ~= nil and client.server_capabilities ~= nil and vim.lsp.buf_is_attached(bufnr, client.id)
  end, 100)
  if not check('the client attaches to the buffer', attached) then return end
  check('its root is the workspace', client.config.root_dir == env.BELUGA_WORKSPACE, tostring(client.config.root_dir))

  local caps = client.server_capabilities
  check('the server offers code actions', caps.codeActionProvider ~= nil and caps.codeActionProvider ~= false)
  local offered = caps.executeCommandProvider and caps.executeCommandProvider.commands or {}
  for _, c in ipairs(args.commands) do
    check('the server offers ' .. c, vim.tbl_contains(offered, c), vim.inspect(offered))
  end

  local diagnostic = { range = { start = { line = 1, character = 4 }, ['end'] = { line = 1, character = 10 } },
                       severity = 1, message = 'undefined name', source = 'test' }
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = { start = { line = 0, character = 0 }, ['end'] = { line = 2, character = 0 } },
    context = { diagnostics = { diagnostic } },
  }
  local response = compat.request_sync(client, 'textDocument/codeAction', params, kWaitMs, bufnr)
  if not check('textDocument/codeAction answers', response ~= nil and response.err == nil,
               vim.inspect(response)) then return end
  local titles, commands = {}, {}
  for _, a in ipairs(response.result or {}) do
    table.insert(titles, a.title)
    local cmd = type(a.command) == 'table' and a.command.command or a.command
    commands[a.title] = cmd
  end
  for _, c in ipairs(args.commands) do
    local title = args.titles[c]
    check('the code actions list "' .. title .. '"', commands[title] == c, vim.inspect(titles))
  end

  -- The server connects to (or starts) the daemon after initialize and
  -- says so with beluga/status; the status line function follows it.
  local ready = vim.wait(kWaitMs, function() return beluga.status.state == 'ready' end, 100)
  check('beluga/status reaches ready', ready, vim.inspect(beluga.status))
  check('the status line says so', beluga.statusline() == 'beluga ready', beluga.statusline())

  -- A chat message: the replay model answers; the text arrives as
  -- beluga/chatUpdate notifications in the chat buffer.
  beluga.chat('Say hello')
  local done = vim.wait(kWaitMs, function() return not chat.t.running end, 100)
  check('the chat turn ends', done)
  local lines = vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false)
  check('the chat buffer shows the answer', vim.tbl_contains(lines, 'Hello from the replay.'), vim.inspect(lines))
  check('the chat turn has a session', type(chat.t.session_id) == 'string')

  -- :BelugaExplain on lines 1-2: the plugin builds {uri, range}, runs
  -- workspace/executeCommand, and the turn (the replay's second answer)
  -- streams into the chat buffer under the command's label.
  vim.api.nvim_set_current_buf(bufnr)
  vim.cmd('1,2BelugaExplain')
  local explained = vim.wait(kWaitMs, function()
    return vim.tbl_contains(vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false), 'It adds a and b.')
  end, 100)
  lines = vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false)
  check(':BelugaExplain streams its answer into the chat', explained, vim.inspect(lines))
  check('under the command\'s label', vim.tbl_contains(lines, 'Explain (beluga): calc.py:1-2'), vim.inspect(lines))
  -- The answer streams before the turn ends: wait for beluga/status to say
  -- ready again, or the next turn is (rightly) refused as overlapping.
  check('the Explain turn ends', vim.wait(kWaitMs, function() return beluga.status.state == 'ready' end, 50),
        vim.inspect(beluga.status))

  -- "Ask beluga…" chosen from the code action menu: Neovim hands the
  -- server's command to vim.lsp.commands, which asks for the prompt (here a
  -- stand-in for vim.ui.input) and runs the turn with it.
  local asked
  vim.ui.input = function(opts, on_confirm) asked = opts.prompt; on_confirm('  Why b?  ') end
  local ask_action = { command = 'beluga.ask', arguments = { { uri = vim.uri_from_bufnr(bufnr), range = params.range } } }
  vim.lsp.commands['beluga.ask'](ask_action, { client_id = client.id, bufnr = bufnr })
  check('the prompt is asked for', asked == 'Ask beluga: ', tostring(asked))
  local answered = vim.wait(kWaitMs, function()
    return vim.tbl_contains(vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false), 'Because b is the second addend.')
  end, 100)
  lines = vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false)
  check('the Ask code action runs with the prompt', answered, vim.inspect(lines))
  check('labelled with the prompt', vim.tbl_contains(lines, 'Ask beluga…: calc.py:1-2 — Why b?'), vim.inspect(lines))
end)
check('no Lua error', ok, err and tostring(err))
finish()
