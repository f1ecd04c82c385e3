#include "engine/cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace beluga::cpu {
namespace {

class ThreadPool {
 public:
  ThreadPool() {
    const int n = std::max(1u, std::thread::hardware_concurrency());
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { run(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  int size() const { return static_cast<int>(workers_.size()); }

  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      push(std::move(task));
    }
    wake_.notify_one();
  }

  // Runs one queued task on the calling thread, if any: a waiting caller
  // helps rather than idles (and cannot deadlock on nested calls).
  bool run_one() {
    std::function<void()> task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (count_ == 0) return false;
      task = pop();
    }
    task();
    return true;
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || count_ > 0; });
        if (stopping_ && count_ == 0) return;
        task = pop();
      }
      task();
    }
  }

  // The queue: a ring over slots that only grows, so posting a task whose
  // closure fits std::function's local storage allocates nothing once warm
  // (a std::deque allocates a node every few pushes). Guarded by mutex_.
  void push(std::function<void()> task) {
    if (count_ == slots_.size()) {
      std::vector<std::function<void()>> grown(std::max<size_t>(16, 2 * slots_.size()));
      for (size_t i = 0; i < count_; ++i) grown[i] = std::move(slots_[(head_ + i) % slots_.size()]);
      slots_ = std::move(grown);
      head_ = 0;
    }
    slots_[(head_ + count_) % slots_.size()] = std::move(task);
    ++count_;
  }
  std::function<void()> pop() {
    std::function<void()> task = std::move(slots_[head_]);
    slots_[head_] = nullptr;
    head_ = (head_ + 1) % slots_.size();
    --count_;
    return task;
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::function<void()>> slots_;
  size_t head_ = 0, count_ = 0;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

ThreadPool& pool() {
  static ThreadPool instance;
  return instance;
}

}  // namespace

int worker_count() { return pool().size(); }

// Ranges are handed out dynamically: [0, n) is cut into a few chunks per
// thread (never below min_per_task), and the caller and the pool workers
// that join claim the next chunk from a shared counter until none is left.
// A worker that wakes late (a busy or shared machine) then takes less,
// instead of the caller waiting for its fixed half.
void parallel_for(int64_t n, int64_t min_per_task, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t threads = pool().size();
  const int64_t max_tasks = std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_task));
  const int64_t helpers = std::min<int64_t>(max_tasks, threads) - 1;  // pool tasks besides the caller
  if (helpers <= 0) {
    fn(0, n);
    return;
  }
  constexpr int64_t kChunksPerThread = 4;
  const int64_t chunks = std::min<int64_t>(max_tasks, kChunksPerThread * (helpers + 1));
  // The count of running claimers is changed only under the lock, so the
  // caller cannot see zero (and destroy this job) while a worker still holds
  // the mutex.
  struct Job {
    const std::function<void(int64_t, int64_t)>& fn;
    int64_t n, per_chunk, chunks;
    std::atomic<int64_t> next{0};
    int64_t running;
    std::mutex done_mutex;
    std::condition_variable done;
    void claim_all() {
      for (int64_t c = next++; c < chunks; c = next++) {
        const int64_t begin = std::min(n, c * per_chunk), end = std::min(n, (c + 1) * per_chunk);
        if (begin < end) fn(begin, end);
      }
    }
    void run_helper() {
      claim_all();
      std::lock_guard<std::mutex> lock(done_mutex);
      if (--running == 0) done.notify_all();
    }
  } job{fn, n, (n + chunks - 1) / chunks, chunks, {}, helpers, {}, {}};
  // A task's closure is one word, within std::function's local storage:
  // posting it allocates nothing.
  for (int64_t t = 0; t < helpers; ++t) pool().post([&job] { job.run_helper(); });
  job.claim_all();
  // Help with queued work (our helpers not yet started, or others' tasks)
  // rather than idle.
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(job.done_mutex);
      if (job.running == 0) return;
    }
    if (!pool().run_one()) break;
  }
  std::unique_lock<std::mutex> lock(job.done_mutex);
  job.done.wait(lock, [&] { return job.running == 0; });
}

}  // namespace beluga::cpu
