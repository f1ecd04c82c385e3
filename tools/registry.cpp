#include "tools/registry.h"

// Tools implemented elsewhere declare their register_* functions in their own
// headers; include them here next to their registration line.

namespace beluga::tools {

ToolRegistry make_default_registry() {
  ToolRegistry registry;
  register_file_tools(registry);    // read, write, edit, apply_patch
  register_search_tools(registry);  // glob, list, grep
  register_shell_tool(registry);    // shell
  register_git_tools(registry);     // git_*, checkpoint_list/diff/restore
  register_plan_tool(registry);     // update_plan
  return registry;
}

}  // namespace beluga::tools
