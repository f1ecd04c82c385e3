// tokenizer_bench: encoding speed of beluga's tokenizer on a large source
// tree, against Hugging Face `tokenizers` measured in the same run.
//
//   build/bench/tokenizer_bench [--tokenizer FILE] [--source DIR]... [--min-mb 20] [--max-mb 32]
//                               [--passes 3] [--node-dir build/bench-node] [--no-reference]
//
// The corpus: every *.h, *.cpp, *.py and *.md file under the --source
// folders (default /usr/include and /usr/lib/python3*), in sorted path order,
// skipping files that are not valid UTF-8 (the reference takes only text),
// until --max-mb. Each file is one document, encoded on its own (no special
// tokens added), on one thread; the best of --passes passes counts (both
// sides keep their merge caches across passes).
//
// The reference: `node bench/tokenizers_reference.js` with the npm package
// `tokenizers` (install: npm install --prefix build/bench-node tokenizers),
// RAYON_NUM_THREADS=1. Its ids for every document are compared with ours.
//
// Output: a human report, then one JSON line for scripts.
#include <CLI/CLI.hpp>

#include <glob.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/files.h"
#include "engine/model/tokenizer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Document {
  std::string path;
  std::string text;
};

bool valid_utf8(const std::string& s) {
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0, n = s.size();
  while (i < n) {
    const unsigned char b = u[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len = (b >= 0xC2 && b <= 0xDF) ? 2 : (b >= 0xE0 && b <= 0xEF) ? 3 : (b >= 0xF0 && b <= 0xF4) ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    const unsigned char b1 = u[i + 1];
    if (b == 0xE0 && b1 < 0xA0) return false;
    if (b == 0xED && b1 > 0x9F) return false;
    if (b == 0xF0 && b1 < 0x90) return false;
    if (b == 0xF4 && b1 > 0x8F) return false;
    for (size_t k = 1; k < len; ++k)
      if ((u[i + k] & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

std::vector<Document> collect(const std::vector<std::string>& roots, uint64_t max_bytes, size_t& skipped) {
  std::vector<std::string> paths;
  for (const std::string& root : roots) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const std::string ext = it->path().extension().string();
      if (ext == ".h" || ext == ".cpp" || ext == ".py" || ext == ".md") paths.push_back(it->path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Document> docs;
  uint64_t total = 0;
  for (const std::string& path : paths) {
    if (total >= max_bytes) break;
    auto text = beluga::read_text_file(path, 64ull << 20);
    if (!text || text->empty()) continue;
    if (!valid_utf8(*text)) {
      ++skipped;
      continue;
    }
    total += text->size();
    docs.push_back({path, std::move(*text)});
  }
  return docs;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs the node reference; fills `result` from its JSON line and `ids` from its id file.
bool run_reference(const std::string& node_dir, const std::string& corpus, const std::string& tokenizer,
                   const std::string& ids_path, int passes, json& result, std::string& why) {
  const std::string script = std::string(BELUGA_SOURCE_DIR) + "/bench/tokenizers_reference.js";
  const std::string out_path = ids_path + ".out";
  const std::string command = "RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false BELUGA_BENCH_NODE_DIR='" + node_dir +
                              "' node '" + script + "' '" + corpus + "' '" + tokenizer + "' '" + ids_path + "' " +
                              std::to_string(passes) + " > '" + out_path + "'";
  const int status = std::system(command.c_str());
  std::ifstream in(out_path);
  std::string line;
  std::getline(in, line);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || line.empty()) {
    why = "node exited with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
          " (is `tokenizers` installed? npm install --prefix " + node_dir + " tokenizers)";
    return false;
  }
  result = json::parse(line, nullptr, false);
  if (result.is_discarded()) {
    why = "unreadable reference output: " + line;
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tokenizer_bench: beluga's tokenizer vs Hugging Face tokenizers, one thread"};
  std::string tokenizer_path = std::string(BELUGA_GOLDEN_DIR) + "/tokenizer/tokenizer.json";
  std::vector<std::string> sources;
  double min_mb = 20, max_mb = 32;
  int passes = 3;
  std::string node_dir = std::string(BELUGA_SOURCE_DIR) + "/build/bench-node";
  bool no_reference = false;
  app.add_option("--tokenizer", tokenizer_path, "tokenizer.json (default: the golden V3 file)");
  app.add_option("--source", sources, "Folders to read *.h/*.cpp/*.py/*.md from (default /usr/include, /usr/lib/python3*)");
  app.add_option("--min-mb", min_mb, "Warn when the corpus is smaller (default 20)");
  app.add_option("--max-mb", max_mb, "Stop adding files past this size (default 32)");
  app.add_option("--passes", passes, "Passes over the corpus; the best counts (default 3)")->check(CLI::Range(1, 100));
  app.add_option("--node-dir", node_dir, "Folder with node_modules/tokenizers (default build/bench-node)");
  app.add_flag("--no-reference", no_reference, "Measure beluga only");
  CLI11_PARSE(app, argc, argv);

  if (sources.empty()) {
    sources.push_back("/usr/include");
    glob_t g{};
    if (::glob("/usr/lib/python3*", 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) sources.push_back(g.gl_pathv[i]);
    globfree(&g);
  }

  auto tokenizer = beluga::Tokenizer::load(tokenizer_path);
  if (!tokenizer) {
    std::cerr << "tokenizer_bench: " << tokenizer.message() << "\n";
    return 1;
  }
  size_t skipped = 0;
  const std::vector<Document> docs = collect(sources, static_cast<uint64_t>(max_mb * 1e6), skipped);
  uint64_t bytes = 0;
  for (const Document& d : docs) bytes += d.text.size();
  std::printf("corpus     %zu files, %.1f MB (*.h *.cpp *.py *.md under", docs.size(), static_cast<double>(bytes) / 1e6);
  for (const auto& s : sources) std::printf(" %s", s.c_str());
  std::printf("; %zu non-UTF-8 files skipped)\n", skipped);
  if (static_cast<double>(bytes) < min_mb * 1e6)
    std::printf("warning    corpus is smaller than --min-mb %.0f MB; timings are noisier\n", min_mb);

  // beluga: best of `passes`; the ids of the last pass are kept.
  std::vector<std::vector<int32_t>> ours(docs.size());
  double best = 1e30, first = 0;
  uint64_t tokens = 0;
  for (int pass = 0; pass < passes; ++pass) {
    tokens = 0;
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < docs.size(); ++i) {
      ours[i].clear();
      tokenizer->encode_into(docs[i].text, true, ours[i]);
      tokens += ours[i].size();
    }
    const double s = seconds_since(start);
    if (pass == 0) first = s;
    best = std::min(best, s);
  }
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("beluga     %8.1f MB/s %12.0f tokens/s  (%llu tokens; best of %d, first pass %.1f MB/s)\n", mb / best,
              static_cast<double>(tokens) / best, static_cast<unsigned long long>(tokens), passes, mb / first);
  json report = {{"bytes", bytes},
                 {"documents", docs.size()},
                 {"tokens", tokens},
                 {"beluga_mb_per_s", mb / best},
                 {"beluga_tokens_per_s", static_cast<double>(tokens) / best}};

  if (!no_reference) {
    char dir_template[] = "/tmp/tokenizer-bench-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (!dir) {
      std::perror("mkdtemp");
      return 1;
    }
    const std::string corpus = std::string(dir) + "/corpus.jsonl", ids_path = std::string(dir) + "/ids.bin";
    {
      std::ofstream out(corpus, std::ios::binary);
      for (const Document& d : docs) out << json{{"text", d.text}}.dump() << "\n";
    }
    json ref;
    std::string why;
    if (!run_reference(node_dir, corpus, tokenizer_path, ids_path, passes, ref, why)) {
      std::printf("reference  not measured: %s\n", why.c_str());
      report["reference"] = nullptr;
    } else {
      const double ref_mb_per_s = ref["mb_per_s"].get<double>();
      std::printf("reference  %8.1f MB/s %12.0f tokens/s  (%s, one thread, best of %d)\n", ref_mb_per_s,
                  ref["tokens_per_s"].get<double>(), ref["implementation"].get<std::string>().c_str(), passes);
      std::printf("ratio      %.2fx\n", (mb / best) / ref_mb_per_s);
      // Compare ids document by document.
      std::ifstream ids_in(ids_path, std::ios::binary);
      const std::vector<uint8_t> raw{std::istreambuf_iterator<char>(ids_in), std::istreambuf_iterator<char>()};
      size_t at = 0, differing = 0, first_bad = docs.size();
      auto word = [&](size_t k) {
        uint32_t v = 0;
        std::memcpy(&v, raw.data() + k, 4);
        return v;
      };
      for (size_t i = 0; i < docs.size(); ++i) {
        bool same = at + 4 <= raw.size() && word(at) == ours[i].size() && at + 4 + 4 * ours[i].size() <= raw.size();
        if (same) {
          for (size_t k = 0; k < ours[i].size() && same; ++k) same = word(at + 4 + 4 * k) == static_cast<uint32_t>(ours[i][k]);
        }
        if (at + 4 <= raw.size()) at += 4 + 4 * static_cast<size_t>(word(at));
        if (!same) {
          ++differing;
          if (first_bad == docs.size()) first_bad = i;
        }
      }
      if (differing == 0) std::printf("ids        identical on all %zu documents\n", docs.size());
      else std::printf("ids        %zu of %zu documents differ (first: %s)\n", differing, docs.size(), docs[first_bad].path.c_str());
      report["reference_mb_per_s"] = ref_mb_per_s;
      report["reference_tokens_per_s"] = ref["tokens_per_s"];
      report["ratio"] = (mb / best) / ref_mb_per_s;
      report["differing_documents"] = differing;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
