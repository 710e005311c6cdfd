-- Neovim (0.7 or later), headless: attaches `kycrules lsp` to a `.rules` file
-- and writes the diagnostics it receives, one per line, to $KYC_OUT.
local bin, file, out = os.getenv("KYC_BIN"), os.getenv("KYC_FILE"), os.getenv("KYC_OUT")
vim.cmd("edit " .. vim.fn.fnameescape(file))
local client = vim.lsp.start_client({
  name = "kycrules",
  cmd = { bin, "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
})
vim.lsp.buf_attach_client(0, client)
local got = vim.wait(30000, function()
  return #vim.diagnostic.get(0) > 0
end, 50)
local lines = {}
if not got then
  table.insert(lines, "no diagnostics within 30 s")
end
for _, d in ipairs(vim.diagnostic.get(0)) do
  local code = d.code
  if code == nil and d.user_data and d.user_data.lsp then
    code = d.user_data.lsp.code
  end
  local first = d.message:gsub("\n.*", "")
  table.insert(lines, string.format("%d:%d %s %s %s", d.lnum + 1, d.col + 1, d.severity, tostring(code), first))
end
vim.fn.writefile(lines, out)
vim.lsp.stop_client(client)
vim.cmd("qa!")
