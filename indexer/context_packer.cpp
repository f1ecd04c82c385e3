#include "indexer/context_packer.h"

#include <algorithm>
#include <map>
#include <set>

#include "engine/base/files.h"
#include "indexer/content.h"
#include "indexer/context_format.h"
#include "indexer/context_map.h"
#include "indexer/context_records.h"
#include "indexer/repo_rank.h"

namespace beluga::indexer {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxShownFileBytes = 64u << 20;
// A new file in a delta is shown whole up to this many tokens; a larger one
// (generated, vendored) by its signatures.
constexpr int64_t kNewFileWholeTokens = 16384;

std::string short_id(const std::string& seed) { return content_hash(seed).substr(0, 16); }

std::string view_digest(const std::map<std::string, ViewEntry>& view) {
  std::string s;
  for (const auto& [path, v] : view) {
    s += path;
    s += '\0';
    s += v.hash;
    s += static_cast<char>('0' + static_cast<int>(v.shown));
    s += v.signature_digest;
    s += '\n';
  }
  return s;
}

std::string signature_digest(const IndexedFile& f) { return content_hash(signature_lines(f.definitions, false)); }

struct ReadText {
  std::string hash;  // of the bytes on disk
  std::string text;  // valid UTF-8
};

Result<ReadText> read_shown(const ContextOptions& options, const std::string& path) {
  auto bytes = read_text_file((options.workspace / path).string(), kMaxShownFileBytes);
  if (!bytes) return bytes.error();
  return ReadText{content_hash(*bytes), to_valid_utf8(*bytes)};
}

// Splits --focus names into files (with folders expanded) and identifiers.
RankFocus resolve_focus(const ContextOptions& options, const std::vector<IndexedFile>& files,
                        std::vector<std::string>& unmatched) {
  RankFocus focus;
  std::set<std::string> defined;
  for (const IndexedFile& f : files)
    for (const Definition& d : f.definitions) defined.insert(d.name);
  for (std::string name : options.focus) {
    fs::path p(name);
    if (p.is_absolute()) name = p.lexically_relative(options.workspace).generic_string();
    while (name.size() > 2 && name.substr(0, 2) == "./") name.erase(0, 2);
    std::string folder = name.empty() || name.back() == '/' ? name : name + "/";
    size_t before = focus.files.size();
    for (const IndexedFile& f : files)
      if (f.path == name || (!name.empty() && f.path.compare(0, folder.size(), folder) == 0))
        focus.files.push_back(f.path);
    if (focus.files.size() > before) continue;
    if (defined.count(name))
      focus.identifiers.push_back(name);
    else
      unmatched.push_back(name);
  }
  return focus;
}

struct Selection {
  std::vector<Shown> shown;  // per file
};

// The base text for a selection; fills `view` and `texts` (hash -> text of
// the files shown whole). A file that vanished since it was indexed is
// listed only.
struct Rendered {
  std::string text;
  std::map<std::string, ViewEntry> view;
  std::map<std::string, std::string> texts;
  std::string id;
};

Result<Rendered> render_base(const ContextOptions& options, const std::vector<IndexedFile>& files,
                             const Selection& sel, const std::string& map_text) {
  Rendered r;
  std::string whole, sigs;
  for (size_t i = 0; i < files.size(); ++i) {
    const IndexedFile& f = files[i];
    ViewEntry v{f.hash, Shown::kListed, ""};
    if (sel.shown[i] == Shown::kWhole) {
      if (auto read = read_shown(options, f.path)) {
        v = {read->hash, Shown::kWhole, ""};
        whole += render_file_section(f.path, read->text);
        r.texts[read->hash] = std::move(read->text);
      }
    } else if (sel.shown[i] == Shown::kSignatures) {
      v = {f.hash, Shown::kSignatures, signature_digest(f)};
      sigs += render_signatures_section(f.path, f.tokens, f.definitions);
    }
    r.view.emplace(f.path, std::move(v));
  }
  r.id = short_id("base\n" + options.workspace.string() + "\n" + options.counter.identity + "\n" +
                  std::to_string(options.budget) + "\n" + view_digest(r.view));
  r.text = "=== BELUGA CONTEXT " + r.id + ": workspace " + options.workspace.filename().string() + ", " +
           std::to_string(files.size()) + " files ===\n" + kContextPreamble + map_text + whole + sigs +
           "=== END CONTEXT " + r.id + " ===\n";
  return r;
}

int64_t reserve_of(const ContextOptions& options) {
  return static_cast<int64_t>(static_cast<double>(options.budget) * options.reserve);
}

Status check_options(const ContextOptions& options) {
  if (options.budget <= 0) return make_error("the budget must be a positive number of tokens");
  if (!(options.reserve >= 0 && options.reserve <= 0.9)) return make_error("the reserve must be between 0 and 0.9");
  if (!options.counter.count) return make_error("no token counter was given");
  return {};
}

void count_view(ContextResult& r, const std::map<std::string, ViewEntry>& view) {
  for (const auto& [path, v] : view) {
    (void)path;
    (v.shown == Shown::kWhole ? r.whole : v.shown == Shown::kSignatures ? r.signatures : r.listed) += 1;
  }
}

}  // namespace

std::string context_records_folder(const std::string& database_path) {
  std::string base = database_path;
  if (base.size() > 7 && base.substr(base.size() - 7) == ".sqlite") base.resize(base.size() - 7);
  return base + ".contexts";
}

Result<ContextResult> pack_context(const ContextOptions& options, const std::vector<IndexedFile>& files) {
  if (Status s = check_options(options); !s) return s.error();
  const auto& count = options.counter.count;
  ContextResult result;
  result.budget = options.budget;
  result.reserve_tokens = reserve_of(options);
  result.tokens_estimated = options.counter.estimated;
  const int64_t limit = options.budget - result.reserve_tokens;

  RankFocus focus = resolve_focus(options, files, result.unmatched_focus);
  RepoRank rank = rank_repository(files, focus);
  std::vector<size_t> order(files.size());
  for (size_t i = 0; i < files.size(); ++i) order[i] = i;  // files come by path
  if (!options.path_order) order = files_by_importance(files, rank, focus);

  // Fixed parts first: header, preamble, map (at the most detailed level
  // that fits a tenth of what is left), end line.
  const int64_t fixed = count("=== BELUGA CONTEXT 0123456789abcdef: workspace " +
                              options.workspace.filename().string() + ", " + std::to_string(files.size()) +
                              " files ===\n" + kContextPreamble + "=== END CONTEXT 0123456789abcdef ===\n");
  std::string map_text = render_context_map(files, rank, (limit - fixed) / 10, count);
  int64_t room = limit - fixed - count(map_text);

  // Whole files may take four fifths of the room, so files that do not fit
  // are still described by their signatures; what the signatures leave goes
  // to more whole files.
  Selection sel{std::vector<Shown>(files.size(), Shown::kListed)};
  std::vector<int64_t> cost(files.size(), 0);
  auto add_whole = [&](int64_t allowed) {
    for (size_t i : order) {
      const IndexedFile& f = files[i];
      if (sel.shown[i] == Shown::kWhole) continue;
      int64_t c = f.tokens + count(render_file_section(f.path, "")) + 2;
      int64_t freed = sel.shown[i] == Shown::kSignatures ? cost[i] : 0;
      if (c - freed <= allowed && c - freed <= room) {
        sel.shown[i] = Shown::kWhole;
        allowed -= c - freed;
        room -= c - freed;
        cost[i] = c;
      }
    }
  };
  add_whole(room / 5 * 4);
  for (size_t i : order) {
    const IndexedFile& f = files[i];
    if (sel.shown[i] != Shown::kListed || f.definitions.empty()) continue;
    int64_t c = count(render_signatures_section(f.path, f.tokens, f.definitions));
    if (c <= room) {
      sel.shown[i] = Shown::kSignatures;
      cost[i] = c;
      room -= c;
    }
  }
  add_whole(room);

  // Counted in full; while over (estimates of per-file counts, boundaries),
  // the least important shown files give way.
  for (;;) {
    auto rendered = render_base(options, files, sel, map_text);
    if (!rendered) return rendered.error();
    int64_t tokens = count(rendered->text);
    if (tokens <= limit) {
      std::string folder = context_records_folder(options.database_path);
      for (const auto& [hash, text] : rendered->texts)
        if (Status s = save_shown_text(folder, hash, text); !s) return s.error();
      ContextRecord record{rendered->id, "", rendered->id, options.workspace.string(), options.counter.identity,
                           options.budget, result.reserve_tokens, tokens, rendered->view};
      if (Status s = save_context_record(folder, record); !s) return s.error();
      result.id = result.base = rendered->id;
      result.text = std::move(rendered->text);
      result.tokens = result.context_tokens = tokens;
      count_view(result, record.files);
      return result;
    }
    int64_t over = tokens - limit;
    bool dropped = false;
    for (auto it = order.rbegin(); it != order.rend() && over > 0; ++it) {
      if (sel.shown[*it] == Shown::kListed) continue;
      sel.shown[*it] = Shown::kListed;
      over -= std::max<int64_t>(cost[*it], 1);
      dropped = true;
    }
    if (!dropped)
      return make_error("the budget of " + std::to_string(options.budget) + " tokens is too small for the map of " +
                        std::to_string(files.size()) + " files (" + std::to_string(tokens) + " tokens)");
  }
}

Result<ContextResult> update_context(const ContextOptions& options_in, const std::vector<IndexedFile>& files,
                                     const std::string& since_id) {
  const std::string folder = context_records_folder(options_in.database_path);
  auto since = load_context_record(folder, since_id);
  if (!since) return since.error();
  ContextOptions options = options_in;
  if (options.budget == 0) options.budget = since->budget;
  if (options.budget != since->budget)
    return make_error("context " + since_id + " was packed for a budget of " + std::to_string(since->budget) +
                      " tokens, not " + std::to_string(options.budget));
  if (since->counter != options.counter.identity)
    return make_error("context " + since_id + " was counted with " + since->counter + ", this run counts with " +
                      options.counter.identity);
  if (since->workspace != options.workspace.string())
    return make_error("context " + since_id + " belongs to the workspace " + since->workspace);
  if (Status s = check_options(options); !s) return s.error();
  const auto& count = options.counter.count;

  std::map<std::string, const IndexedFile*> current;
  for (const IndexedFile& f : files) current[f.path] = &f;
  // Renames: a vanished path whose content reappears under a new path.
  std::map<std::string, std::string> renamed_to;  // old path -> new path
  {
    std::multimap<std::string, std::string> added_by_hash;
    for (const auto& [path, f] : current)
      if (!since->files.count(path)) added_by_hash.emplace(f->hash, path);
    for (const auto& [path, v] : since->files) {
      if (current.count(path)) continue;
      auto it = added_by_hash.find(v.hash);
      if (it == added_by_hash.end()) continue;
      renamed_to[path] = it->second;
      added_by_hash.erase(it);
    }
  }
  std::set<std::string> rename_targets;
  for (const auto& [from, to] : renamed_to) rename_targets.insert(to);

  ContextResult result;
  result.delta = true;
  result.since = since_id;
  result.base = since->base;
  result.budget = options.budget;
  result.reserve_tokens = since->reserve_tokens;
  result.tokens_estimated = options.counter.estimated;
  std::map<std::string, ViewEntry> view = since->files;
  std::map<std::string, std::string> texts;
  std::string body;

  for (const auto& [path, old] : since->files) {
    auto cur = current.find(path);
    if (cur == current.end()) {
      if (auto r = renamed_to.find(path); r != renamed_to.end()) {
        body += render_renamed_section(path, r->second);
        view[r->second] = old;
        ++result.renamed;
      } else {
        body += render_deleted_section(path);
        ++result.deleted;
      }
      view.erase(path);
      continue;
    }
    const IndexedFile& f = *cur->second;
    if (f.hash == old.hash) continue;
    if (old.shown == Shown::kWhole) {
      auto before = load_shown_text(folder, old.hash);
      if (!before) return before.error();
      auto now = read_shown(options, path);
      if (!now) return now.error();
      if (now->hash == old.hash) continue;  // changed back since it was indexed
      auto diff = unified_diff(path, *before, now->text);
      if (!diff) return diff.error();
      std::string as_file = render_file_section(path, now->text);
      // A diff is used only if it reproduces the file exactly (see
      // apply_context_diff on mixed line endings) and costs fewer tokens.
      auto applied = apply_context_diff(path, *before, *diff);
      bool diff_exact = applied && *applied == now->text;
      std::string as_diff = diff_exact ? render_diff_section(path, *diff) : std::string();
      bool whole_is_smaller = !diff_exact || count(as_file) <= count(as_diff);
      body += whole_is_smaller ? as_file : as_diff;
      ++(whole_is_smaller ? result.replaced : result.diffs);
      view[path] = {now->hash, Shown::kWhole, ""};
      texts[now->hash] = std::move(now->text);
    } else if (old.shown == Shown::kSignatures) {
      std::string digest = signature_digest(f);
      if (digest != old.signature_digest) {
        body += render_signatures_section(path, f.tokens, f.definitions);
        ++result.resigned;
      }
      view[path] = {f.hash, Shown::kSignatures, digest};
    } else {
      view[path].hash = f.hash;  // known from the map only: nothing to restate
    }
  }
  for (const auto& [path, f] : current) {
    if (since->files.count(path) || rename_targets.count(path)) continue;
    ++result.added;
    if (f->tokens <= kNewFileWholeTokens) {
      if (auto now = read_shown(options, path)) {
        body += render_file_section(path, now->text);
        view[path] = {now->hash, Shown::kWhole, ""};
        texts[now->hash] = std::move(now->text);
        continue;
      }
    }
    body += render_signatures_section(path, f->tokens, f->definitions);
    view[path] = {f->hash, Shown::kSignatures, signature_digest(*f)};
  }

  if (body.empty()) {  // nothing changed
    result.id = since_id;
    result.context_tokens = since->tokens;
    count_view(result, since->files);
    return result;
  }
  std::string id = short_id("delta\n" + since_id + "\n" + view_digest(view));
  std::string text = "=== CHANGES since " + since_id + ", now " + id + ": these supersede the text above ===\n" +
                     body + "=== END CHANGES " + id + " ===\n";
  int64_t tokens = count(text);
  if (since->tokens + tokens > options.budget) {
    auto repacked = pack_context(options, files);
    if (!repacked) return repacked.error();
    repacked->compacted = true;
    repacked->since = since_id;
    repacked->compacted_because = "the changes since " + since->base + " would bring the context to " +
                                  std::to_string(since->tokens + tokens) + " tokens, over the budget of " +
                                  std::to_string(options.budget);
    return repacked;
  }
  for (const auto& [hash, t] : texts)
    if (Status s = save_shown_text(folder, hash, t); !s) return s.error();
  ContextRecord record{id, since_id, since->base, since->workspace, since->counter, since->budget,
                       since->reserve_tokens, since->tokens + tokens, std::move(view)};
  if (Status s = save_context_record(folder, record); !s) return s.error();
  result.id = id;
  result.text = std::move(text);
  result.tokens = tokens;
  result.context_tokens = record.tokens;
  count_view(result, record.files);
  return result;
}

}  // namespace beluga::indexer
