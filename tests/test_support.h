// Helpers shared by the tests: where the golden reference data and the
// repository live, and scratch folders that clean up after themselves.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace beluga::testing {

// Single-quotes `s` for /bin/sh.
inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}


// ../shared/golden (or $BELUGA_GOLDEN_DIR). Tests that need it fail with a
// clear message when it is missing rather than pass vacuously.
inline std::string golden_dir() {
  if (const char* env = std::getenv("BELUGA_GOLDEN_DIR")) return env;
  return BELUGA_GOLDEN_DIR;
}

inline std::string golden_path(const std::string& relative) {
  std::string path = golden_dir() + "/" + relative;
  if (!std::filesystem::exists(path))
    throw std::runtime_error("golden reference file missing: " + path +
                             " (set BELUGA_GOLDEN_DIR to the shared/golden folder)");
  return path;
}

// A file of the source tree ($BELUGA_SOURCE_DIR overrides the build's path,
// for test binaries run from a copy of the tree, e.g. on a GPU machine).
inline std::string source_path(const std::string& relative) {
  if (const char* env = std::getenv("BELUGA_SOURCE_DIR")) return std::string(env) + "/" + relative;
  return std::string(BELUGA_SOURCE_DIR) + "/" + relative;
}

// A fresh folder under $TMPDIR, removed with everything in it at scope exit.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "beluga-test-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = buffer.data();
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace beluga::testing
