#include "lsp/server_context.h"

#include <unistd.h>

#include <filesystem>

namespace beluga::lsp {
namespace {

bool contains(const std::string& root, const std::string& path) {
  if (root.empty()) return false;
  if (path == root) return true;
  const std::string prefix = root.back() == '/' ? root : root + "/";
  return path.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string ServerContext::workspace_for(const std::string& path) const {
  std::string best;
  for (const auto& root : settings.roots)
    if (contains(root, path) && root.size() > best.size()) best = root;
  if (!best.empty()) return best;
  if (!settings.roots.empty()) return settings.roots.front();
  if (!path.empty()) return std::filesystem::path(path).parent_path().string();
  return default_workspace();
}

std::string ServerContext::default_workspace() const {
  if (!settings.roots.empty()) return settings.roots.front();
  char cwd[4096];
  return ::getcwd(cwd, sizeof cwd) ? std::string(cwd) : std::string("/");
}

bool ServerContext::inside_workspace(const std::string& path) const {
  for (const auto& root : settings.roots)
    if (contains(root, path)) return true;
  return false;
}

}  // namespace beluga::lsp
