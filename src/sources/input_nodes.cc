#include "sources/input_nodes.h"

#include <algorithm>
#include <cstdio>

#include "dstream/detail/context_core.h"
#include "dstream/error.h"
#include "sources/file_reader.h"

namespace dstream::detail {

Partitions<std::string_view> partitionsOf(const std::vector<LineBlockPtr>& blocks) {
  Partitions<std::string_view> parts;
  parts.reserve(blocks.size());
  for (const auto& b : blocks) parts.push_back(PartitionPtr<std::string_view>(b, &b->lines));
  return parts;
}

// ---- textFileStream ----

FileInputNode::FileInputNode(ContextCore* context, const std::string& directory, FileStreamOptions options)
    : TypedNode<std::string_view>(context, "textFileStream", {}, context->batchDuration()),
      scanner_(directory, FileScannerOptions{.batchDuration = context->batchDuration(),
                                             .newFilesOnly = options.newFilesOnly}) {}

void FileInputNode::startInput() { scanner_.start(context().clock().now()); }

long FileInputNode::recordsFor(Time t) {
  auto rdd = getOrCompute(t);
  return rdd ? rdd->count() : 0;
}

std::optional<RDD<std::string_view>> FileInputNode::compute(Time t) {
  auto files = scanner_.findNewFiles(t);
  // Cut large files into splits so that every worker reads.
  struct Split {
    std::size_t file;
    int index, count;
  };
  std::vector<Split> splits;
  int workers = context().defaultParallelism();
  for (std::size_t f = 0; f < files.size(); ++f) {
    auto size = fileSizeForSplits(files[f]);
    if (!size) continue;  // vanished or unreadable: reported, skipped
    int n = splitCountFor(*size, workers);
    for (int i = 0; i < n; ++i) splits.push_back({f, i, n});
  }
  std::vector<std::optional<LineBlockPtr>> blocks(splits.size());
  context().pool()->parallelFor(splits.size(), [&](std::size_t i) {
    blocks[i] = readSplit(files[splits[i].file], splits[i].index, splits[i].count);
  });
  std::vector<LineBlockPtr> read;
  for (auto& b : blocks) if (b) read.push_back(std::move(*b));
  auto& names = filesByBatch_[t];
  for (auto& f : files) names.push_back(f.string());
  return RDD<std::string_view>(partitionsOf(read), {}, context().pool());
}

void FileInputNode::clearOldData(Time t) {
  TypedNode<std::string_view>::clearOldData(t);
  filesByBatch_.erase(filesByBatch_.begin(), filesByBatch_.upper_bound(t - scanner_.rememberDuration()));
}

// ---- socketTextStream ----

SocketInputNode::SocketInputNode(ContextCore* context, const std::string& host, int port,
                                 SocketStreamOptions options)
    : TypedNode<std::string_view>(context, "socketTextStream", {}, context->batchDuration()) {
  if (port < 1 || port > 65535) {
    throw Error(ErrorCode::kInvalidArgument,
                "socketTextStream: port " + std::to_string(port) + " is not in 1..65535");
  }
  if (host.empty()) throw Error(ErrorCode::kInvalidArgument, "socketTextStream: the host is empty");
  SocketReceiverOptions ro;
  ro.host = host;
  ro.port = port;
  ro.batchDuration = context->batchDuration();
  ro.blockInterval = options.blockInterval;
  ro.retryInterval = options.retryInterval;
  ro.maxLineBytes = options.maxLineBytes;
  ro.maxRatePerSecond = options.maxRatePerSecond;
  receiver_ = std::make_unique<SocketLineReceiver>(std::move(ro), context->clock(), queue_);
}

void SocketInputNode::startInput() { receiver_->start(); }
void SocketInputNode::stopInput() { receiver_->stop(); }

long SocketInputNode::recordsFor(Time t) {
  auto rdd = getOrCompute(t);
  return rdd ? rdd->count() : 0;
}

std::optional<RDD<std::string_view>> SocketInputNode::compute(Time t) {
  return RDD<std::string_view>(partitionsOf(queue_.takeUpTo(t)), {}, context().pool());
}

}  // namespace dstream::detail
