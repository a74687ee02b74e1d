// The graph nodes behind textFileStream and socketTextStream: they connect the scanner,
// reader and receiver of this folder to the engine. Each batch's lines stay in the blocks
// they were read into; partitions alias the blocks, so no line is copied.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "checkpoint/write_ahead_log.h"
#include "dstream/detail/input_node.h"
#include "dstream/detail/node.h"
#include "dstream/options.h"
#include "sources/file_scanner.h"
#include "sources/received_block_queue.h"
#include "sources/socket_receiver.h"

namespace dstream::detail {

// Recovery (doc/recovery.md): a checkpoint records what each batch read (the file names, or
// the write-ahead log records of the socket's blocks), so that re-run batches read exactly
// that again instead of scanning or receiving.

// A partition that is a block's lines, sharing ownership of the block.
Partitions<std::string_view> partitionsOf(const std::vector<LineBlockPtr>& blocks);

class FileInputNode final : public SourceNode<std::string_view> {
 public:
  FileInputNode(Graph* graph, const std::string& directory, FileStreamOptions options);

  void startInput() override;

  FileStreamScanner& scanner() { return scanner_; }
  // The files each remembered batch read (what recovery needs to recompute a batch).
  const std::map<Time, std::vector<std::string>>& filesByBatch() const { return filesByBatch_; }
  void clearOldData(Time t) override;

  void prepareCheckpointing(const std::filesystem::path& checkpointDir, Duration keepFor) override;
  void writeInputs(BinaryWriter& w, Time after, Time upTo) const override;
  void readInputs(BinaryReader& r, Time upTo) override;

 protected:
  std::optional<RDD<std::string_view>> compute(Time t) override;

 private:
  FileStreamScanner scanner_;
  std::map<Time, std::vector<std::string>> filesByBatch_;
  Duration keepFilesFor_{0};                         // for checkpoints, beyond the scanner's memory
  std::map<Time, std::vector<std::string>> replay_;  // recovered: the files batches <= replayUntil_ read
  std::optional<Time> replayUntil_;
};

class SocketInputNode final : public SourceNode<std::string_view> {
 public:
  SocketInputNode(Graph* graph, const std::string& host, int port, SocketStreamOptions options);

  void startInput() override;
  void stopInput() override;

  ReceivedBlockQueue& queue() { return queue_; }
  SocketLineReceiver& receiver() { return *receiver_; }
  void clearOldData(Time t) override;

  // With options.writeAheadLog: opens the log (throws without a checkpoint directory).
  void prepareCheckpointing(const std::filesystem::path& checkpointDir, Duration keepFor) override;
  void writeInputs(BinaryWriter& w, Time after, Time upTo) const override;
  // Also puts back into the queue the logged blocks no completed batch took.
  void readInputs(BinaryReader& r, Time upTo) override;
  void forgetInputsBefore(Time oldest) override;

 protected:
  std::optional<RDD<std::string_view>> compute(Time t) override;

 private:
  void logBlock(Time batchTime, const LineBlock& block);  // the queue's BeforeAdd hook

  const SocketStreamOptions options_;
  const std::string address_;  // "host:port", for messages
  ReceivedBlockQueue queue_;
  std::unique_ptr<SocketLineReceiver> receiver_;
  std::unique_ptr<WriteAheadLog> wal_;  // null without options_.writeAheadLog
  bool requeueing_ = false;             // recovery re-adds logged blocks: do not log them twice
  Duration keepFor_{0};
  std::mutex handlesMu_;
  std::unordered_map<const LineBlock*, RecordHandle> logged_;  // queued blocks' records; guarded by handlesMu_
  std::map<Time, std::vector<RecordHandle>> taken_;            // the records each batch took
  std::map<Time, std::vector<RecordHandle>> replay_;           // recovered: what batches <= replayUntil_ took
  std::optional<Time> replayUntil_;
};

}  // namespace dstream::detail
