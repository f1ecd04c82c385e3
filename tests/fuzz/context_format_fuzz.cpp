// Fuzzes the context text format (indexer/context_format.h). Byte 0 picks
// the property:
//   0: the reader on arbitrary text never crashes;
//   1: a FILE section of any path and content reads back exactly;
//   2: a diff from unified_diff(before, after), applied to `before`, gives
//      `after` exactly, unless the texts mix line endings (then the packer
//      shows the whole file: apply_context_diff); and the reader agrees.
// The rest of the input is split at its first NUL byte into two strings.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "indexer/content.h"
#include "indexer/context_format.h"

using namespace beluga::indexer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t nul = rest.find('\0');
  std::string first(rest.substr(0, nul));
  std::string second(nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1));
  switch (data[0] % 3) {
    case 0: {
      (void)read_context_text({std::string(rest)});
      break;
    }
    case 1: {
      if (first.empty()) break;
      auto files = read_context_text({render_file_section(first, second)});
      if (!files || files->size() != 1 || files->begin()->first != first || files->begin()->second.text != second)
        std::abort();
      break;
    }
    default: {
      // Contexts hold valid UTF-8 text (binary files are never shown).
      std::string before = to_valid_utf8(first), after = to_valid_utf8(second);
      auto diff = unified_diff("f", before, after);
      if (!diff) std::abort();
      if (diff->empty()) {
        if (before != after) std::abort();
        break;
      }
      auto applied = apply_context_diff("f", before, *diff);
      bool exact = applied && *applied == after;
      bool mixed_endings = (before + after).find('\r') != std::string::npos;
      if (!exact && !mixed_endings) std::abort();
      if (exact) {
        auto files = read_context_text({render_file_section("f", before), render_diff_section("f", *diff)});
        if (!files || files->at("f").text != after) std::abort();
      }
    }
  }
  return 0;
}
