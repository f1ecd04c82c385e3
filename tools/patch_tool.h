// The apply_patch tool: a unified diff over one or more files, all or
// nothing.
//
//   1. parse the patch (patch.h); resolve every path it names in the
//      workspace (PathUse::kWrite: never inside .git);
//   2. read every file it touches and compute every new content in memory
//      (plan_patch) -- any problem here (a hunk that does not apply, a file
//      that exists or is missing, a stale file) fails with nothing written;
//   3. commit: new contents are written atomically first, removals last;
//      if a write or removal fails midway, what was already done is rolled
//      back from the in-memory originals (contents and modes).
//
// The commit step's file operations are injectable so tests can make the
// N-th operation fail and check the rollback byte for byte.
//
// Thread contract: as ToolSpec::run (one call at a time per ToolContext).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tools/file_io.h"
#include "tools/tool.h"

namespace beluga::tools {

struct PatchFileOps {
  std::function<Status(const ConfinedPath&, std::string_view, std::optional<mode_t>)> write =
      [](const ConfinedPath& p, std::string_view bytes, std::optional<mode_t> mode) {
        return write_confined_atomically(p, bytes, mode);
      };
  std::function<Status(const ConfinedPath&)> remove = [](const ConfinedPath& p) { return remove_confined(p); };
};

ToolResult run_apply_patch(const std::string& patch_text, ToolContext& context, const PatchFileOps& ops = {});

}  // namespace beluga::tools
