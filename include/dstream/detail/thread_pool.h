// ThreadPool runs the partitions of a batch in parallel. It is deliberately small: a fixed
// set of std::jthreads, one mutex, one condition variable and a FIFO of per-partition tasks
// (the cost of a std::function is paid once per partition, never per record).
//
// parallelFor(n, fn) lets the calling thread work too, so a pool of N-1 threads plus the
// caller gives local[N] its N workers, and nested parallelFor calls cannot deadlock.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dstream/export.h"

namespace dstream::detail {

class DSTREAM_EXPORT ThreadPool {
 public:
  // Starts `workers - 1` threads: the caller of parallelFor is the N-th worker.
  // REQUIRES: workers >= 1.
  explicit ThreadPool(int workers);
  ~ThreadPool();  // joins the threads after the queued tasks have run
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int workers() const { return static_cast<int>(threads_.size()) + 1; }

  // Runs fn(0) ... fn(n-1), spread over the pool and the calling thread, and returns when all
  // have finished. If any call throws, the first exception is rethrown here (the remaining
  // indices are skipped).
  void parallelFor(std::size_t n, const std::function<void(std::size_t)>& fn);

 private:
  struct Loop;
  void workerLoop(std::stop_token stop);

  std::mutex mu_;
  std::condition_variable_any ready_;
  // One entry per helper wanted by a running parallelFor; a caller that finishes first
  // takes its unstarted entries back, so nested calls never wait on a queued task.
  std::deque<std::shared_ptr<Loop>> tasks_;  // guarded by mu_
  std::vector<std::jthread> threads_;
};

}  // namespace dstream::detail
