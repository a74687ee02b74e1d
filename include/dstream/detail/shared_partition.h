// A partition that a stateful node owns and updates, and lends to the RDDs it emits instead of
// copying it (copy-on-write): updateStateByKey emits every key each batch, and its output
// partitions are the state's own (key, state) vectors.
//
// Lending: lend() returns a PartitionPtr that shares the vector; while any such pointer (or a
// copy of it: an RDD, a window, a user's saved RDD) is alive, write() first copies the vector
// into a fresh one, so what a reader holds never changes. When every lent pointer has been
// released, write() updates the vector in place. The count of lent pointers is released by the
// holder's last release (memory_order_release, after its reads) and read with acquire by the
// writer, so the writer's updates never race with a reader's reads.
//
// Thread-safety: one writer (the node's partition task); lent pointers may be read and
// released on any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "dstream/detail/partitions.h"

namespace dstream::detail {

template <class T>
class SharedPartition {
 public:
  SharedPartition() : data_(std::make_shared<Partition<T>>()), lent_(std::make_shared<std::atomic<long>>(0)) {}

  const Partition<T>& read() const { return *data_; }
  auto begin() const { return data_->cbegin(); }
  auto end() const { return data_->cend(); }
  std::size_t size() const { return data_->size(); }

  // The vector, to update: a copy of it first when a lent pointer is still alive.
  Partition<T>& write() {
    if (lent()) {
      data_ = std::make_shared<Partition<T>>(*data_);
      lent_ = std::make_shared<std::atomic<long>>(0);
      ++copies_;
    }
    return *data_;
  }
  // Like write(), for a caller about to replace every element: an empty vector, never a copy.
  Partition<T>& rewrite() {
    if (lent()) {
      data_ = std::make_shared<Partition<T>>();
      lent_ = std::make_shared<std::atomic<long>>(0);
    } else {
      data_->clear();
    }
    return *data_;
  }

  // A read-only pointer sharing the vector; write() copies while it (or a copy) lives.
  PartitionPtr<T> lend() const {
    lent_->fetch_add(1, std::memory_order_relaxed);
    return PartitionPtr<T>(data_.get(), [data = data_, lent = lent_](const Partition<T>*) {
      lent->fetch_sub(1, std::memory_order_release);
    });
  }
  bool lent() const { return lent_->load(std::memory_order_acquire) != 0; }

  // How many times write() had to copy (tests and benchmarks read it).
  long copies() const { return copies_; }

 private:
  std::shared_ptr<Partition<T>> data_;
  std::shared_ptr<std::atomic<long>> lent_;  // lent pointers alive for data_
  long copies_ = 0;
};

}  // namespace dstream::detail
