#include "dstream/detail/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

#include "dstream/bad_records.h"
#include "dstream/log.h"

namespace dstream::detail {

// Shared by the caller and the helpers of one parallelFor call.
struct ThreadPool::Loop {
  std::size_t n = 0;
  const std::function<void(std::size_t)>* fn = nullptr;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // written by the thread that sets `failed` first
  // The caller's per-thread context, installed on each helper while it runs the loop, so
  // that bad records count against the caller's batch and log lines reach its context.
  std::atomic<std::int64_t>* badRecords = nullptr;
  const LogSink* log = nullptr;
  std::mutex mu;
  std::condition_variable done;
  int running = 0;  // helpers that started and have not finished; guarded by mu

  void run() {
    for (;;) {
      std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n || failed.load(std::memory_order_relaxed)) return;
      try {
        (*fn)(i);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
        return;
      }
    }
  }
};

ThreadPool::ThreadPool(int workers) {
  for (int i = 1; i < workers; ++i) {
    threads_.emplace_back([this](std::stop_token stop) { workerLoop(stop); });
  }
}

ThreadPool::~ThreadPool() {
  for (auto& t : threads_) t.request_stop();
  ready_.notify_all();
  threads_.clear();  // joins
}

void ThreadPool::workerLoop(std::stop_token stop) {
  for (;;) {
    std::shared_ptr<Loop> loop;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, stop, [&] { return !tasks_.empty(); });
      if (tasks_.empty()) return;  // stop requested
      loop = std::move(tasks_.front());
      tasks_.pop_front();
      std::lock_guard l(loop->mu);
      ++loop->running;
    }
    {
      BadRecordScope badRecords(loop->badRecords);
      LogScope log(loop->log);
      loop->run();
    }
    std::lock_guard l(loop->mu);
    if (--loop->running == 0) loop->done.notify_all();
  }
}

void ThreadPool::parallelFor(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  if (n == 1 || threads_.empty()) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  auto loop = std::make_shared<Loop>();
  loop->n = n;
  loop->fn = &fn;
  loop->badRecords = currentBadRecordCounter();
  loop->log = currentLogSink();
  std::size_t helpers = std::min(n - 1, threads_.size());
  {
    std::lock_guard lock(mu_);
    for (std::size_t h = 0; h < helpers; ++h) tasks_.push_back(loop);
  }
  ready_.notify_all();
  loop->run();
  {
    std::lock_guard lock(mu_);
    std::erase(tasks_, loop);
  }
  {
    std::unique_lock lock(loop->mu);
    loop->done.wait(lock, [&] { return loop->running == 0; });
  }
  if (loop->error) std::rethrow_exception(loop->error);
}

}  // namespace dstream::detail
