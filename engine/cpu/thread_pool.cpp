#include "engine/cpu/thread_pool.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
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
      tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
  }

  // Runs one queued task on the calling thread, if any: a waiting caller
  // helps rather than idles (and cannot deadlock on nested calls).
  bool run_one() {
    std::function<void()> task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (tasks_.empty()) return false;
      task = std::move(tasks_.front());
      tasks_.pop_front();
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
        wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (stopping_ && tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

ThreadPool& pool() {
  static ThreadPool instance;
  return instance;
}

}  // namespace

int worker_count() { return pool().size(); }

void parallel_for(int64_t n, int64_t min_per_task, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t max_tasks = std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_task));
  const int64_t tasks = std::min<int64_t>(max_tasks, pool().size());
  if (tasks <= 1) {
    fn(0, n);
    return;
  }
  // The count is changed only under the lock, so the caller cannot see zero
  // (and destroy these locals) while a worker still holds the mutex.
  int64_t remaining = tasks;
  std::mutex done_mutex;
  std::condition_variable done;
  auto finish_one = [&] {
    std::lock_guard<std::mutex> lock(done_mutex);
    if (--remaining == 0) done.notify_all();
  };
  const int64_t per_task = (n + tasks - 1) / tasks;
  for (int64_t t = 1; t < tasks; ++t) {
    const int64_t begin = std::min(n, t * per_task), end = std::min(n, (t + 1) * per_task);
    pool().post([&, begin, end] {
      if (begin < end) fn(begin, end);
      finish_one();
    });
  }
  fn(0, std::min(n, per_task));
  finish_one();
  // Help with queued work (ours or others') rather than idle.
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(done_mutex);
      if (remaining == 0) return;
    }
    if (!pool().run_one()) break;
  }
  std::unique_lock<std::mutex> lock(done_mutex);
  done.wait(lock, [&] { return remaining == 0; });
}

}  // namespace beluga::cpu
