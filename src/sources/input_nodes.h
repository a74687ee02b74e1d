// The graph nodes behind textFileStream, binaryRecordsStream and socketTextStream: they
// connect the scanner, reader and receiver of this folder to the engine. Each batch's lines
// (or records) stay in the blocks they were read into; partitions alias the blocks, so no
// line is copied.
#pragma once

#include <cstdint>
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
#include "sources/rate_controller.h"
#include "sources/received_block_queue.h"
#include "sources/replay_log.h"
#include "sources/socket_receiver.h"

namespace dstream::detail {

// Recovery (doc/recovery.md): each source keeps a ReplayLog of what its batches read (the file
// names, or the write-ahead log records of the socket's blocks), so that re-run batches read
// exactly that again instead of scanning or receiving.

// A source's batch: one partition per block, each its block's lines. The blocks are the
// batch's owners too, so that views derived from the lines (a map's, a shuffle's values, a
// window's) keep the bytes alive, not just the partitions made of the lines themselves:
// otherwise a block would go back to the pool, and be refilled, while views into it remain.
RDD<std::string_view> batchOf(const std::vector<LineBlockPtr>& blocks, std::shared_ptr<ThreadPool> pool);

// textFileStream (recordLength 0: the files' lines) and binaryRecordsStream (records of
// exactly recordLength bytes): one scanner, one replay log, one checkpoint layout; only the
// reading of a split differs (file_reader.h), and the kind ("textFileStream" or
// "binaryRecordsStream") that names the stream in messages and checkpoints.
// REQUIRES: recordLength >= 0.
class FileInputNode final : public SourceNode<std::string_view> {
 public:
  FileInputNode(Graph* graph, const std::string& directory, FileStreamOptions options,
                std::int64_t recordLength = 0);

  void startInput() override;
  std::string inputName() const override;

  FileStreamScanner& scanner() { return scanner_; }
  void clearOldData(Time t) override;

  void prepareCheckpointing(const std::filesystem::path& checkpointDir, Duration keepFor) override;
  void writeInputs(BinaryWriter& w, Time after, Time upTo) const override;
  void readInputs(BinaryReader& r, Time upTo) override;

 protected:
  std::optional<RDD<std::string_view>> compute(Time t) override;

 private:
  const std::int64_t recordLength_;  // 0: lines
  FileStreamScanner scanner_;
  ReplayLog<std::vector<std::string>> replay_{"files"};  // kept as long as the scanner remembers
};

// Writes and reads the write-ahead log records a batch took: varint n, n x (varint segment,
// varint offset, varint length).
struct WalRecordsCodec {
  static void write(BinaryWriter& w, const std::vector<RecordHandle>& handles);
  static std::vector<RecordHandle> read(BinaryReader& r);
};

// socketTextStream. With the context's backpressure enabled, startInput() also registers a
// ReceiverRateController for this stream, so the receiver reads no faster than the batches
// keep up with; options.maxReceivedBytes bounds what it holds for batches either way.
// Throws Error(kInvalidArgument) naming the setting for bad options (socket_receiver.h,
// BackpressureOptions).
class SocketInputNode final : public SourceNode<std::string_view> {
 public:
  SocketInputNode(Graph* graph, const std::string& host, int port, SocketStreamOptions options);

  void startInput() override;
  void stopInput() override;
  std::string inputName() const override { return kind() + " " + address_; }
  std::optional<ReceiverInfo> receiverInfo() const override;
  // The rate control, once started with backpressure; null otherwise.
  const ReceiverRateController* rateController() const { return rateController_.get(); }

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
  std::shared_ptr<SocketLineReceiver> receiver_;  // shared with the rate controller's publish
  std::shared_ptr<ReceiverRateController> rateController_;  // set by startInput with backpressure
  std::unique_ptr<WriteAheadLog> wal_;  // null without options_.writeAheadLog
  bool requeueing_ = false;             // recovery re-adds logged blocks: do not log them twice
  std::mutex handlesMu_;
  std::unordered_map<const LineBlock*, RecordHandle> logged_;  // queued blocks' records; guarded by handlesMu_
  // The records each batch took; with the log only.
  ReplayLog<std::vector<RecordHandle>, WalRecordsCodec> replay_{"write-ahead log records"};
};

}  // namespace dstream::detail
