#include "indexer/indexer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "indexer/content.h"
#include "indexer/languages.h"
#include "indexer/tags.h"

namespace beluga::indexer {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRacyWindowNs = 2'000'000'000;  // see indexer.h, step 3
constexpr int kBatchFiles = 256;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// FNV-1a, 64 bits: names the index file after the workspace path. Not a
// security boundary, only a stable spread of names.
uint64_t fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

struct Job {
  WorkspaceFile file;
  const StoredFile* stored = nullptr;  // the index's row for this path, if any
};

struct Outcome {
  enum class Kind { kSkipped, kTouched, kRenameCandidate, kParsed };
  Kind kind = Kind::kSkipped;
  const Job* job = nullptr;
  std::string reason;       // kSkipped
  FileRecord record;        // kParsed: everything; others: path, hash and stat only
  std::string raw_content;  // kRenameCandidate: kept in case the rename source is taken
  std::string untagged_because;  // kParsed: why there are no tags, if so
};

struct ReadFile {
  std::string bytes;
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
};

// Reads a listed file, bounded by the size cap (it may have grown since the
// walk). Symlinks are followed only where the walk approved the target.
Result<ReadFile> read_listed_file(const fs::path& root, const WorkspaceFile& file, uint64_t max_bytes) {
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (file.via_symlink ? 0 : O_NOFOLLOW);
  int fd = ::open((root / file.path).c_str(), flags);
  if (fd < 0) return make_error(std::string("unreadable: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("not a regular file");
  }
  ReadFile out;
  out.size_bytes = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (out.size_bytes > max_bytes) {
    ::close(fd);
    return make_error("too large (" + std::to_string(out.size_bytes) + " bytes; the limit is " +
                      std::to_string(max_bytes) + ")");
  }
  out.bytes.resize(static_cast<size_t>(out.size_bytes));
  size_t done = 0;
  while (done < out.bytes.size()) {
    ssize_t n = ::read(fd, out.bytes.data() + done, out.bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(std::string("unreadable: ") + std::strerror(err));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.bytes.resize(done);  // shrank while we read: index what we saw
  ::close(fd);
  return out;
}

// Parses and counts one file's content into `record` (path and stat set);
// returns why tags could not be extracted ("" when they were).
std::string fill_record(FileRecord& record, std::string_view bytes, TagExtractor& extractor,
                        const TokenCounter& counter) {
  Language language = language_for_path(record.path);
  record.tokens = counter.count(bytes);
  record.text = to_valid_utf8(bytes);
  auto tags = is_c_or_cpp_header(record.path) ? extractor.extract_header(bytes, language)
                                              : extractor.extract(language, bytes);
  record.language = std::string(language_name(language));
  if (!tags) return tags.message();  // still indexed, as text
  record.tags = std::move(*tags);
  record.syntax_error = record.tags.syntax_error;
  return "";
}

Outcome handle(const fs::path& root, const Job& job, const IndexOptions& options,
               const std::unordered_set<std::string>& removed_hashes, TagExtractor& extractor) {
  Outcome out;
  out.job = &job;
  out.record.path = job.file.path;
  out.record.checked_ns = now_ns();
  auto read = read_listed_file(root, job.file, options.max_file_bytes);
  if (!read) {
    out.reason = read.message();
    return out;
  }
  if (looks_binary(read->bytes)) {
    out.reason = "binary";
    return out;
  }
  out.record.size_bytes = read->size_bytes;
  out.record.mtime_ns = read->mtime_ns;
  out.record.hash = content_hash(read->bytes);
  if (job.stored && job.stored->hash == out.record.hash) {
    out.kind = Outcome::Kind::kTouched;
    return out;
  }
  if (!job.stored && removed_hashes.count(out.record.hash)) {
    out.kind = Outcome::Kind::kRenameCandidate;
    out.raw_content = std::move(read->bytes);
    return out;
  }
  out.kind = Outcome::Kind::kParsed;
  out.untagged_because = fill_record(out.record, read->bytes, extractor, options.counter);
  return out;
}

// Worker threads produce outcomes; the calling thread consumes them.
class OutcomeQueue {
 public:
  void push(Outcome outcome) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(outcome));
    }
    ready_.notify_one();
  }
  Outcome pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty(); });
    Outcome outcome = std::move(queue_.front());
    queue_.pop_front();
    return outcome;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Outcome> queue_;
};

}  // namespace

Result<fs::path> canonical_workspace(const std::string& path) {
  if (path.empty()) return make_error("the workspace path is empty");
  std::error_code ec;
  fs::path canonical = fs::canonical(path, ec);
  if (ec) return make_error("cannot open the workspace " + path + ": " + ec.message());
  if (!fs::is_directory(canonical, ec)) return make_error("the workspace " + path + " is not a folder");
  return canonical;
}

Result<std::string> default_index_path(const fs::path& canonical_workspace) {
  fs::path cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') {
    cache = xdg;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    cache = fs::path(home) / ".cache";
  } else {
    return make_error("cannot place the index: neither XDG_CACHE_HOME nor HOME is set");
  }
  std::string name = canonical_workspace.filename().string();
  if (name.empty()) name = "root";
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(canonical_workspace.string())));
  return (cache / "beluga" / "index" / (name + "-" + hex + ".sqlite")).string();
}

Result<IndexReport> update_index(const IndexOptions& options) {
  auto started = std::chrono::steady_clock::now();
  if (!options.counter.count) return make_error("no token counter was given");
  auto root = canonical_workspace(options.workspace.string());
  if (!root) return root.error();
  IndexReport report;
  report.workspace = root->string();
  report.tokens_estimated = options.counter.estimated;
  if (options.database_path.empty()) {
    auto path = default_index_path(*root);
    if (!path) return path.error();
    report.database = *path;
  } else {
    report.database = options.database_path;
  }

  auto store_or = IndexStore::open(report.database, options.counter.identity, report.rebuilt_because);
  if (!store_or) return store_or.error();
  IndexStore& store = **store_or;

  WalkLimits limits;
  limits.max_file_bytes = options.max_file_bytes;
  auto previous_walk = store.meta("walk");
  if (!previous_walk) return previous_walk.error();
  std::string walk_record;
  auto listing = list_workspace_files(*root, limits, *previous_walk, &walk_record);
  if (!listing) return listing.error();
  if (!listing->complete)
    return make_error("the workspace " + report.workspace + " is too large to index: the walk stopped at " +
                      listing->stopped_because);
  report.git = listing->git;
  report.ignored = listing->ignored;
  report.skipped = listing->skipped;

  auto stored_or = store.stored_files();
  if (!stored_or) return stored_or.error();
  std::vector<StoredFile>& stored = *stored_or;
  std::unordered_map<std::string, const StoredFile*> stored_by_path;
  for (const StoredFile& f : stored) stored_by_path.emplace(f.path, &f);

  // What needs reading; the rest is unchanged by its stat.
  std::vector<Job> jobs;
  std::unordered_set<std::string> listed;
  for (const WorkspaceFile& file : listing->files) {
    listed.insert(file.path);
    auto it = stored_by_path.find(file.path);
    const StoredFile* known = it == stored_by_path.end() ? nullptr : it->second;
    if (known && known->size_bytes == file.size_bytes && known->mtime_ns == file.mtime_ns &&
        known->mtime_ns + kRacyWindowNs < known->checked_ns) {
      ++report.unchanged;
      continue;
    }
    jobs.push_back({file, known});
  }
  // Removed paths, by content hash: a new path with one of these hashes is a rename.
  std::unordered_multimap<std::string, int64_t> removed_by_hash;
  std::unordered_set<std::string> removed_hashes;
  std::unordered_set<int64_t> removed_ids;
  for (const StoredFile& f : stored)
    if (!listed.count(f.path)) {
      removed_by_hash.emplace(f.hash, f.id);
      removed_hashes.insert(f.hash);
      removed_ids.insert(f.id);
    }

  // Parse on workers, write here.
  OutcomeQueue queue;
  std::atomic<size_t> next{0};
  unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, jobs.size()));
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      TagExtractor extractor;
      for (size_t i = next++; i < jobs.size(); i = next++) {
        Outcome outcome;
        try {
          outcome = handle(*root, jobs[i], options, removed_hashes, extractor);
        } catch (const std::exception& e) {
          // One file's failure (out of memory on a huge parse, a regex
          // blow-up) skips that file; the queue must still get its outcome.
          outcome = Outcome{};
          outcome.job = &jobs[i];
          outcome.reason = std::string("internal error: ") + e.what();
        } catch (...) {
          outcome = Outcome{};
          outcome.job = &jobs[i];
          outcome.reason = "internal error";
        }
        queue.push(std::move(outcome));
      }
    });
  }

  Status failure;
  size_t written_in_batch = 0;
  const size_t total = listing->files.size();
  size_t done = static_cast<size_t>(report.unchanged);
  std::optional<TagExtractor> main_extractor;  // for renames whose source was taken
  // The write transaction starts with the first write: a run that finds
  // nothing to change (files unchanged or skipped again, the same walk
  // record and meta) writes nothing, so the file and its clean-close stamp
  // stay as they are and an up-to-date check costs no WAL write, checkpoint
  // or sync. indexed_at keeps the time of the last run that changed something.
  bool began = false;
  auto writing = [&]() -> Status {
    if (began) return {};
    began = true;
    return store.begin();
  };
  for (size_t handled = 0; handled < jobs.size(); ++handled) {
    Outcome outcome = queue.pop();
    if (!failure.ok()) continue;  // drain the workers, write nothing more
    const Job& job = *outcome.job;
    Status s;
    switch (outcome.kind) {
      case Outcome::Kind::kSkipped:
        report.skipped.push_back({job.file.path, outcome.reason});
        if (job.stored) {
          s = writing();
          if (s) s = store.remove_file(job.stored->id);
          ++report.removed;
        }
        break;
      case Outcome::Kind::kTouched:
        s = writing();
        if (s) s = store.touch_file(job.stored->id, outcome.record.size_bytes, outcome.record.mtime_ns,
                             outcome.record.checked_ns);
        ++report.unchanged;
        break;
      case Outcome::Kind::kRenameCandidate: {
        auto it = removed_by_hash.find(outcome.record.hash);
        if (it != removed_by_hash.end()) {
          s = writing();
          if (s) s = store.rename_file(it->second, outcome.record.path, outcome.record.mtime_ns, outcome.record.checked_ns);
          removed_ids.erase(it->second);
          removed_by_hash.erase(it);
          ++report.renamed;
          break;
        }
        if (!main_extractor) main_extractor.emplace();
        outcome.untagged_because =
            fill_record(outcome.record, outcome.raw_content, *main_extractor, options.counter);
        if (!outcome.untagged_because.empty()) report.untagged.push_back({job.file.path, outcome.untagged_because});
        s = writing();
        if (s) s = store.put_file(outcome.record);
        ++report.added;
        break;
      }
      case Outcome::Kind::kParsed:
        if (!outcome.untagged_because.empty()) report.untagged.push_back({job.file.path, outcome.untagged_because});
        s = writing();
        if (s) s = store.put_file(outcome.record);
        ++(job.stored ? report.updated : report.added);
        break;
    }
    if (s && began && ++written_in_batch >= kBatchFiles) {
      s = store.commit();
      if (s) s = store.begin();
      written_in_batch = 0;
    }
    if (!s) failure = s;
    if (options.progress) options.progress(++done, total);
  }
  for (std::thread& w : workers) w.join();

  if (failure.ok()) {
    for (int64_t id : removed_ids) {
      Status s = writing();
      if (s) s = store.remove_file(id);
      if (!s) {
        failure = s;
        break;
      }
      ++report.removed;
    }
  }
  auto stored_workspace = store.meta("workspace");
  auto stored_tokenizer = store.meta("tokenizer_path");
  if (!stored_workspace) failure = stored_workspace.error();
  if (!stored_tokenizer) failure = stored_tokenizer.error();
  if (failure.ok() && (began || store.secondary_indexes_missing() || walk_record != *previous_walk ||
                       *stored_workspace != report.workspace || *stored_tokenizer != options.tokenizer_path)) {
    failure = writing();
    if (failure.ok()) failure = store.create_secondary_indexes();
    if (failure.ok() && walk_record != *previous_walk) failure = store.set_meta("walk", walk_record);
    if (failure.ok()) failure = store.set_meta("workspace", report.workspace);
    if (failure.ok()) failure = store.set_meta("tokenizer_path", options.tokenizer_path);
    if (failure.ok()) failure = store.set_meta("indexed_at", std::to_string(now_ns() / 1'000'000'000));
    if (failure.ok()) failure = store.commit();
  }
  if (!failure.ok()) {
    if (began) (void)store.rollback();
    return failure.error();
  }

  auto totals = store.totals();
  if (!totals) return totals.error();
  report.totals = std::move(*totals);
  // Not a failure of the run: without the stamp, the next open checks every page.
  (void)store.close_clean();
  std::sort(report.skipped.begin(), report.skipped.end(),
            [](const SkippedFile& a, const SkippedFile& b) { return a.path < b.path; });
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

Result<IndexedWorkspace> refresh_index(IndexOptions options) {
  auto database = default_index_path(options.workspace);
  if (!database) return database.error();
  options.database_path = *database;
  auto report = update_index(options);
  if (!report) return report.error();
  std::string ignored;
  auto store = IndexStore::open(*database, options.counter.identity, ignored);
  if (!store) return store.error();
  auto files = (*store)->all_files();
  if (!files) return files.error();
  return IndexedWorkspace{std::move(database).value(), std::move(files).value()};
}

}  // namespace beluga::indexer
