// The graph nodes behind textFileStream and socketTextStream: they connect the scanner,
// reader and receiver of this folder to the engine. Each batch's lines stay in the blocks
// they were read into; partitions alias the blocks, so no line is copied.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dstream/detail/node.h"
#include "dstream/streaming_context.h"
#include "sources/file_scanner.h"
#include "sources/received_block_queue.h"
#include "sources/socket_receiver.h"

namespace dstream::detail {

// A partition that is a block's lines, sharing ownership of the block.
Partitions<std::string_view> partitionsOf(const std::vector<LineBlockPtr>& blocks);

class FileInputNode final : public TypedNode<std::string_view>, public InputNode {
 public:
  FileInputNode(ContextCore* context, const std::string& directory, FileStreamOptions options);

  void startInput() override;
  long recordsFor(Time t) override;

  FileStreamScanner& scanner() { return scanner_; }
  // The files each remembered batch read (what recovery needs to recompute a batch).
  const std::map<Time, std::vector<std::string>>& filesByBatch() const { return filesByBatch_; }
  void clearOldData(Time t) override;

 protected:
  std::optional<RDD<std::string_view>> compute(Time t) override;

 private:
  FileStreamScanner scanner_;
  std::map<Time, std::vector<std::string>> filesByBatch_;
};

class SocketInputNode final : public TypedNode<std::string_view>, public InputNode {
 public:
  SocketInputNode(ContextCore* context, const std::string& host, int port, SocketStreamOptions options);

  void startInput() override;
  void stopInput() override;
  long recordsFor(Time t) override;

  ReceivedBlockQueue& queue() { return queue_; }
  SocketLineReceiver& receiver() { return *receiver_; }

 protected:
  std::optional<RDD<std::string_view>> compute(Time t) override;

 private:
  ReceivedBlockQueue queue_;
  std::unique_ptr<SocketLineReceiver> receiver_;
};

}  // namespace dstream::detail
