// In-process figures for keeping an index current (bench/README.md):
// update_index() timed inside one process, so the incremental figures of
// index_bench.sh (whole `beluga index` processes) can be told apart from
// process start-up. A full index into a scratch database, then RUNS times:
// append a comment to one source file, bring the index up to date (timed),
// restore the file and update again (untimed); then, past git's 2 s racy
// window, RUNS updates with nothing changed (timed). Prints medians.
//
//   build/bench/index_update_bench /tmp/redis [--runs N] [--file PATH]
//
// The file is restored byte for byte before the program exits, also when
// an update fails.
#include <CLI/CLI.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "indexer/index_store.h"
#include "indexer/indexer.h"

namespace {

namespace fs = std::filesystem;
using beluga::indexer::IndexOptions;

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  return static_cast<bool>(out.flush());
}

// Puts the touched file back as it was, whatever happens after it is saved.
struct Restore {
  fs::path path;
  std::string bytes;
  ~Restore() {
    if (!write_bytes(path, bytes)) std::fprintf(stderr, "index_update_bench: could not restore %s\n", path.c_str());
  }
};

// CPU time of the whole process so far (every thread, user + system), ms.
double process_cpu_ms() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;  // the steadier figure on a shared machine
};

// One update_index(), timed; throws with its message on failure.
Timing timed_update(const IndexOptions& options) {
  double cpu = process_cpu_ms();
  auto start = std::chrono::steady_clock::now();
  auto report = beluga::indexer::update_index(options);
  Timing t;
  t.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  t.cpu_ms = process_cpu_ms() - cpu;
  if (!report) throw std::runtime_error(report.message());
  return t;
}

double median_of(const std::vector<Timing>& timings, double Timing::*field) {
  std::vector<double> values;
  for (const Timing& t : timings) values.push_back(t.*field);
  return median(std::move(values));
}

// The first C, C++ or Python file of the index in path order (what
// index_bench.sh picks with git ls-files), or "".
std::string default_file(const std::string& database) {
  std::string ignored;
  auto store = beluga::indexer::IndexStore::open(database, beluga::indexer::estimated_token_counter().identity,
                                                 ignored);
  if (!store) return "";
  auto files = (*store)->stored_files();
  if (!files) return "";
  std::vector<std::string> paths;
  for (const auto& f : *files)
    for (const char* ext : {".c", ".cc", ".cpp", ".py"})
      if (f.path.ends_with(ext)) paths.push_back(f.path);
  std::sort(paths.begin(), paths.end());
  return paths.empty() ? "" : paths.front();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"update_index() timed in process: full, one file changed, nothing changed"};
  std::string tree, file;
  int runs = 5;
  app.add_option("tree", tree, "The workspace to index (it is not changed except for the touched file, restored)")
      ->required();
  app.add_option("--runs", runs, "Timed runs of each incremental kind")->check(CLI::Range(1, 1000));
  app.add_option("--file", file, "The file to touch, relative to TREE (default: the first .c/.cc/.cpp/.py)");
  CLI11_PARSE(app, argc, argv);

  fs::path scratch = fs::temp_directory_path() / ("beluga-index-update-bench-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(scratch, ec);
  int status = 0;
  try {
    IndexOptions options;
    options.workspace = tree;
    options.database_path = (scratch / "index.sqlite").string();
    Timing full = timed_update(options);
    if (file.empty()) file = default_file(options.database_path);
    if (file.empty()) throw std::runtime_error("no C, C++ or Python file to touch; name one with --file");
    fs::path path = fs::path(tree) / file;
    std::vector<Timing> changed, unchanged;
    {
      Restore restore{path, read_bytes(path)};
      for (int i = 0; i < runs; ++i) {
        if (!write_bytes(path, restore.bytes + "/* index_update_bench " + std::to_string(i) + " */\n"))
          throw std::runtime_error("cannot write " + path.string());
        changed.push_back(timed_update(options));
        if (!write_bytes(path, restore.bytes)) throw std::runtime_error("cannot restore " + path.string());
        timed_update(options);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // past the racy window
    timed_update(options);
    for (int i = 0; i < runs; ++i) unchanged.push_back(timed_update(options));
    std::printf("in process, wall (CPU): full index %.0f ms (%.0f ms); one file changed (%s) %.1f ms (%.1f ms); "
                "nothing changed %.1f ms (%.1f ms); medians of %d\n",
                full.wall_ms, full.cpu_ms, file.c_str(), median_of(changed, &Timing::wall_ms),
                median_of(changed, &Timing::cpu_ms), median_of(unchanged, &Timing::wall_ms),
                median_of(unchanged, &Timing::cpu_ms), runs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "index_update_bench: %s\n", e.what());
    status = 1;
  }
  fs::remove_all(scratch, ec);
  return status;
}
