// Unified diffs of what an edit tool changed, for the user (the model sees
// the tool's own answer). libgit2's buffer diff, the same renderer the git
// tools use.
//
// Thread contract: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace beluga::agent {

// "--- a/PATH\n+++ b/PATH\n@@ ..." between two versions of a file; "" when
// equal. `before_exists` false renders a creation (/dev/null). Capped at
// `limit_bytes` with a marker.
std::string unified_diff(const std::string& path, const std::string& before, bool before_exists,
                         const std::string& after, uint64_t limit_bytes = 16 * 1024);

}  // namespace beluga::agent
