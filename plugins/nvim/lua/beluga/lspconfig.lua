-- beluga as an nvim-lspconfig server, for those who manage servers there:
--
--   require('beluga').setup({ autostart = false })   -- commands, chat, keymaps
--   require('beluga.lspconfig').register({ model = '...' })
--   require('lspconfig').beluga.setup({})
--
-- The server config is built from the same options as beluga.setup().

local M = {}

function M.register(opts)
  local beluga = require('beluga')
  if opts then beluga.options = vim.tbl_deep_extend('force', beluga.options, opts) end
  local configs = require('lspconfig.configs')
  local util = require('lspconfig.util')
  configs.beluga = {
    default_config = {
      cmd = beluga.cmd(),
      filetypes = beluga.options.filetypes,
      root_dir = util.root_pattern(unpack(beluga.options.root_markers)),
      single_file_support = true,
      init_options = beluga.init_options(),
      handlers = beluga.handlers,
    },
    docs = { description = '`beluga lsp`: the beluga coding agent as a language server (code actions, chat, completion).' },
  }
  return configs.beluga
end

return M
