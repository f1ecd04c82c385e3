// The tool set a session gets: every built-in tool, registered by the file
// that implements it.
//
//   file_tools.cpp    read, write, edit      (register_file_tools)
//   patch_tool.cpp    apply_patch            (register_patch_tool, via register_file_tools)
//   search_tools.cpp  glob, list, grep       (register_search_tools)
//   shell_tool.cpp    shell                  (register_shell_tool)
//   git_tools.cpp     git tools              (register_git_tools)
//   plan_tool.cpp     update_plan            (register_plan_tool)
//
// Thread contract: the returned registry is const after construction.
#pragma once

#include "tools/tool.h"

namespace beluga::tools {

ToolRegistry make_default_registry();

void register_file_tools(ToolRegistry& registry);
void register_patch_tool(ToolRegistry& registry);
void register_search_tools(ToolRegistry& registry);
void register_shell_tool(ToolRegistry& registry);  // shell (shell_tool.cpp)
// git_status/diff/log/show/blame/add/commit/branch/restore and
// checkpoint_list/diff/restore (git_tools.cpp)
void register_git_tools(ToolRegistry& registry);
void register_plan_tool(ToolRegistry& registry);  // update_plan (plan_tool.cpp)

}  // namespace beluga::tools
