-- The chat buffer: a scratch buffer (filetype markdown) showing the
-- transcript of beluga/chat turns, re-rendered from lua/beluga/transcript.lua
-- after each beluga/chatUpdate. One chat per Neovim instance.

local compat = require('beluga.compat')
local transcript = require('beluga.transcript')

local M = {}
M.t = transcript.new()
M.buf = nil

local function buf_valid()
  return M.buf ~= nil and vim.api.nvim_buf_is_valid(M.buf)
end

local function render()
  if not buf_valid() then return end
  local lines = transcript.render(M.t)
  vim.api.nvim_buf_set_option(M.buf, 'modifiable', true)
  vim.api.nvim_buf_set_lines(M.buf, 0, -1, false, lines)
  vim.api.nvim_buf_set_option(M.buf, 'modifiable', false)
  -- Keep following the end in windows that show the chat.
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_buf(win) == M.buf then
      vim.api.nvim_win_set_cursor(win, { math.max(#lines, 1), 0 })
    end
  end
end

-- Opens (or shows) the chat buffer; split is the command that makes its
-- window ("vsplit", "split", "tabnew", ...).
function M.open(split)
  if not buf_valid() then
    M.buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(M.buf, 'beluga://chat')
    vim.api.nvim_buf_set_option(M.buf, 'buftype', 'nofile')
    vim.api.nvim_buf_set_option(M.buf, 'bufhidden', 'hide')
    vim.api.nvim_buf_set_option(M.buf, 'swapfile', false)
    vim.api.nvim_buf_set_option(M.buf, 'filetype', 'markdown')
  end
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_buf(win) == M.buf then
      render()
      return M.buf
    end
  end
  local current = vim.api.nvim_get_current_win()
  vim.cmd(split or 'vsplit')
  vim.api.nvim_win_set_buf(0, M.buf)
  vim.api.nvim_win_set_option(0, 'wrap', true)
  vim.api.nvim_set_current_win(current)
  render()
  return M.buf
end

function M.on_update(params)
  if transcript.apply(M.t, params) then render() end
end

-- Sends text on client (a vim.lsp client) with the current buffer's file
-- as context; the reply ends the turn.
function M.send(client, text, context)
  if M.t.running then
    vim.notify('beluga: a chat turn is still running; :BelugaCancel first', vim.log.levels.WARN)
    return
  end
  transcript.begin_turn(M.t, text)
  render()
  local params = { text = text }
  if context then
    params.uri = context.uri
    params.range = context.range
  end
  compat.request(client, 'beluga/chat', params, function(err, result)
    if err then
      transcript.end_turn(M.t, nil, err.message or vim.inspect(err))
    else
      transcript.end_turn(M.t, result)
    end
    render()
  end)
end

function M.begin_command(label)
  transcript.begin_command(M.t, label)
  render()
end

function M.end_command(result, err)
  transcript.end_command(M.t, result, err)
  render()
end

function M.clear()
  if M.t.running then return end
  M.t = transcript.new()
  render()
end

return M
