-- Calls on a vim.lsp client that work from Neovim 0.7 to 0.11+: until 0.10
-- a client's methods are closures called with a dot (client.request(...));
-- 0.11 made them methods (client:request(...)) and deprecated the dot form.

local M = {}

local methods = vim.fn.has('nvim-0.11') == 1

function M.request(client, method, params, handler, bufnr)
  if methods then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end

function M.request_sync(client, method, params, timeout_ms, bufnr)
  if methods then return client:request_sync(method, params, timeout_ms, bufnr) end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

function M.is_stopped(client)
  if methods then return client:is_stopped() end
  return client.is_stopped()
end

function M.stop(client)
  if methods then return client:stop() end
  return client.stop()
end

M.get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients

return M
