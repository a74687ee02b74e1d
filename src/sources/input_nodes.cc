#include "sources/input_nodes.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "dstream/error.h"
#include "dstream/serialize.h"
#include "sources/file_reader.h"

// The scanner's memory in a checkpoint: start time, then the selected files (a file's size
// is not kept: a restored file's is unknown).
template <>
struct dstream::Serializer<dstream::detail::FileScannerState::RememberedFile> {
  static void write(BinaryWriter& w, const detail::FileScannerState::RememberedFile& f) {
    w.write(f.path);
    w.write(f.modTime);
    w.write(f.batchTime);
  }
  static detail::FileScannerState::RememberedFile read(BinaryReader& r) {
    detail::FileScannerState::RememberedFile f;
    f.path = r.read<std::string>();
    f.modTime = r.read<Time>();
    f.batchTime = r.read<Time>();
    return f;
  }
};

namespace dstream::detail {

RDD<std::string_view> batchOf(const std::vector<LineBlockPtr>& blocks, std::shared_ptr<ThreadPool> pool) {
  Partitions<std::string_view> parts;
  Owners owners;
  parts.reserve(blocks.size());
  owners.reserve(blocks.size());
  for (const auto& b : blocks) {
    parts.push_back(PartitionPtr<std::string_view>(b, &b->lines));
    owners.push_back(b);
  }
  return makeRDD<std::string_view>(std::move(parts), std::move(owners), std::move(pool));
}

// ---- textFileStream and binaryRecordsStream ----

FileInputNode::FileInputNode(Graph* graph, const std::string& directory, FileStreamOptions options,
                             std::int64_t recordLength)
    : SourceNode<std::string_view>(graph, recordLength > 0 ? "binaryRecordsStream" : "textFileStream"),
      recordLength_(recordLength),
      scanner_(directory, FileScannerOptions{.batchDuration = graph->batchDuration(),
                                             .newFilesOnly = options.newFilesOnly,
                                             .requireStableSize = options.requireStableSize,
                                             .source = kind(),
                                             .maxFilesPerBatch = options.maxFilesPerBatch,
                                             .maxBytesPerBatch = options.maxBytesPerBatch}) {}

std::string FileInputNode::inputName() const { return kind() + " " + scanner_.directory().string(); }

void FileInputNode::startInput() {
  if (replay_.recovering()) {
    scanner_.checkDirectory();  // recovered: the scanner's memory came from the checkpoint
  } else {
    scanner_.start(graph().clock().now());
  }
}

std::optional<RDD<std::string_view>> FileInputNode::compute(Time t) {
  std::vector<std::filesystem::path> files;
  if (auto recorded = replay_.replayed(t)) {
    files.assign(recorded->begin(), recorded->end());  // a batch that ran before the crash
  } else {
    files = scanner_.findNewFiles(t);
  }
  // Cut large files into splits so that every worker reads.
  // A file is read at the size the scanner saw, so that all its splits agree even if it is
  // still growing (the scanner warns about the rest at its next scan).
  struct Split {
    std::size_t file;
    int index, count;
    std::int64_t size;
  };
  std::vector<Split> splits;
  int workers = graph().defaultParallelism();
  for (std::size_t f = 0; f < files.size(); ++f) {
    std::int64_t selected = scanner_.selectedSize(files[f]);
    auto size = selected >= 0 ? std::optional<std::int64_t>(selected) : fileSizeForSplits(files[f], kind());
    if (!size) continue;  // vanished or unreadable: reported, skipped
    int n = splitCountFor(*size, workers);
    for (int i = 0; i < n; ++i) splits.push_back({f, i, n, *size});
  }
  std::vector<std::optional<LineBlockPtr>> blocks(splits.size());
  graph().pool()->parallelFor(splits.size(), [&](std::size_t i) {
    const Split& s = splits[i];
    blocks[i] = recordLength_ > 0 ? readRecordSplit(files[s.file], recordLength_, s.index, s.count, s.size, kind())
                                  : readSplit(files[s.file], s.index, s.count, s.size);
  });
  std::vector<LineBlockPtr> read;
  for (auto& b : blocks) if (b) read.push_back(std::move(*b));
  std::vector<std::string> names;
  for (auto& f : files) names.push_back(f.string());
  replay_.record(t, std::move(names));
  return batchOf(read, graph().pool());
}

void FileInputNode::clearOldData(Time t) {
  TypedNode<std::string_view>::clearOldData(t);
  replay_.forgetOld(t, scanner_.rememberDuration());
}

void FileInputNode::prepareCheckpointing(const std::filesystem::path&, Duration keepFor) { replay_.keepFor(keepFor); }

// The files per batch, then the scanner's memory: its start time, the files it selected, and
// the files found but not yet taken (caps; absent in checkpoints written before them).
void FileInputNode::writeInputs(BinaryWriter& w, Time after, Time upTo) const {
  replay_.write(w, after, upTo);
  FileScannerState state = scanner_.state();
  w.write(state.startTime);
  w.write(state.files);
  w.write(state.backlog);
}

void FileInputNode::readInputs(BinaryReader& r, Time upTo) {
  auto batches = replay_.readBatches(r);
  FileScannerState state;
  state.startTime = r.read<Time>();
  state.files = r.read<std::vector<FileScannerState::RememberedFile>>();
  if (!r.atEnd()) state.backlog = r.read<std::vector<FileScannerState::RememberedFile>>();
  if (!r.atEnd()) r.fail("unexpected trailing bytes");
  scanner_.restore(state);
  replay_.recover(std::move(batches), upTo);
}

// ---- socketTextStream ----

SocketInputNode::SocketInputNode(Graph* graph, const std::string& host, int port,
                                 SocketStreamOptions options)
    : SourceNode<std::string_view>(graph, "socketTextStream"),
      options_(options),
      address_(host + ":" + std::to_string(port)),
      queue_([this](Time t, const LineBlock& block) { logBlock(t, block); }) {
  if (port < 1 || port > 65535) {
    throw Error(ErrorCode::kInvalidArgument,
                "socketTextStream: port " + std::to_string(port) + " is not in 1..65535");
  }
  if (host.empty()) throw Error(ErrorCode::kInvalidArgument, "socketTextStream: the host is empty");
  if (options.maxReceivedBytes > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())) {
    throw Error(ErrorCode::kInvalidArgument,
                "socketTextStream " + address_ + ": SocketStreamOptions.maxReceivedBytes is " +
                    std::to_string(options.maxReceivedBytes) +
                    " (a negative number converted?); it must be 0 (unlimited) or a byte count below 2^63");
  }
  const BackpressureOptions& backpressure = graph->backpressure();  // checked by the context
  SocketReceiverOptions ro;
  ro.host = host;
  ro.port = port;
  ro.batchDuration = graph->batchDuration();
  ro.blockInterval = options.blockInterval;
  ro.retryInterval = options.retryInterval;
  ro.maxLineBytes = options.maxLineBytes;
  ro.maxRatePerSecond = options.maxRatePerSecond;
  ro.initialRate = backpressure.enabled ? backpressure.initialRate : 0;
  ro.maxReceivedBytes = options.maxReceivedBytes;
  // A receiver that dies (its write-ahead log cannot be written) stops the context with the
  // error, naming the stream, instead of leaving every later batch empty (Spark's reportError).
  ro.onFailure = [graph, address = address_](std::exception_ptr e) {
    ErrorCode code = ErrorCode::kInternal;
    std::string what = "unknown error";
    try {
      std::rethrow_exception(e);
    } catch (const Error& err) {
      code = err.code();
      what = withoutDstreamPrefix(err.what());
    } catch (const std::exception& err) {
      what = err.what();
    } catch (...) {
    }
    graph->reportError(std::make_exception_ptr(
        Error(code, "socketTextStream " + address + ": the receiver stopped: " + what)));
  };
  receiver_ = std::make_shared<SocketLineReceiver>(std::move(ro), graph->clock(), queue_);
}

void SocketInputNode::startInput() {
  if (graph().backpressure().enabled && !rateController_) {
    std::weak_ptr<SocketLineReceiver> receiver = receiver_;
    rateController_ = std::make_shared<ReceiverRateController>(
        inputStreamId(), graph().batchDuration(), graph().backpressure(), [receiver](double rate) {
          if (auto r = receiver.lock()) r->setRate(rate);
        });
    graph().addListener(rateController_);
  }
  receiver_->start();
}

void SocketInputNode::stopInput() { receiver_->stop(); }

std::optional<ReceiverInfo> SocketInputNode::receiverInfo() const {
  SocketReceiverStats s = receiver_->stats();
  ReceiverInfo info;
  info.inputStreamId = inputStreamId();
  info.name = inputName();
  info.active = s.connected;
  info.location = receiver_->address();
  if (!s.lastError.empty()) {
    info.lastError = s.lastError;
    info.lastErrorTime = s.lastErrorTime;
  }
  info.writeAheadLog = options_.writeAheadLog;
  info.recordsReceived = s.linesReceived;
  info.bytesReceived = s.bytesReceived;
  info.recordsDropped = s.linesDropped;
  info.rateLimit = receiver_->rateLimit();
  info.pendingBytes = queue_.pendingBytes() + s.bufferedBytes;
  info.maxPendingBytes = static_cast<std::int64_t>(options_.maxReceivedBytes);
  info.throttled = s.throttled;
  return info;
}

namespace {

std::string encodeBlock(const LineBlock& block) {
  BinaryWriter w;
  w.writeVarint(block.lines.size());
  for (auto line : block.lines) w.writeBytes(line);
  return w.release();
}

LineBlockPtr decodeBlock(std::string_view payload, const std::string& context) {
  BinaryReader r(payload, context);
  auto block = std::make_shared<LineBlock>();
  std::vector<std::size_t> ends;
  for (std::size_t n = r.readCount(), i = 0; i < n; ++i) {
    block->bytes.append(r.readBytes());
    ends.push_back(block->bytes.size());
  }
  std::size_t begin = 0;
  for (std::size_t end : ends) {
    block->lines.emplace_back(block->bytes.data() + begin, end - begin);
    begin = end;
  }
  return block;
}

}  // namespace

void WalRecordsCodec::write(BinaryWriter& w, const std::vector<RecordHandle>& handles) {
  w.writeVarint(handles.size());
  for (const auto& h : handles) {
    w.writeVarint(h.segment);
    w.writeVarint(h.offset);
    w.writeVarint(h.length);
  }
}

std::vector<RecordHandle> WalRecordsCodec::read(BinaryReader& r) {
  std::vector<RecordHandle> handles;
  for (std::size_t n = r.readCount(), i = 0; i < n; ++i) {
    RecordHandle h;
    h.segment = r.readVarint();
    h.offset = r.readVarint();
    h.length = r.read<std::uint32_t>();
    handles.push_back(h);
  }
  return handles;
}

void SocketInputNode::logBlock(Time batchTime, const LineBlock& block) {
  if (!wal_ || requeueing_) return;
  RecordHandle h = wal_->append(static_cast<std::uint64_t>(toMillis(batchTime)), encodeBlock(block));
  std::lock_guard lock(handlesMu_);
  logged_[&block] = h;
}

std::optional<RDD<std::string_view>> SocketInputNode::compute(Time t) {
  std::vector<LineBlockPtr> blocks;
  std::vector<RecordHandle> handles;
  if (auto recorded = replay_.replayed(t)) {  // recovering implies the log
    // A batch that ran before the crash takes the same logged blocks again.
    handles = std::move(*recorded);
    for (const auto& h : handles) blocks.push_back(decodeBlock(wal_->read(h).payload, wal_->directory().string()));
  } else {
    blocks = queue_.takeUpTo(t);
    if (wal_) {
      std::lock_guard lock(handlesMu_);
      for (const auto& b : blocks) {
        if (auto it = logged_.find(b.get()); it != logged_.end()) {
          handles.push_back(it->second);
          logged_.erase(it);
        }
      }
    }
  }
  if (wal_) replay_.record(t, std::move(handles));
  return batchOf(blocks, graph().pool());
}

void SocketInputNode::clearOldData(Time t) {
  TypedNode<std::string_view>::clearOldData(t);
  replay_.forgetOld(t);
}

void SocketInputNode::prepareCheckpointing(const std::filesystem::path& checkpointDir, Duration keepFor) {
  replay_.keepFor(keepFor);
  if (!options_.writeAheadLog) return;
  if (checkpointDir.empty()) {
    throw Error(ErrorCode::kFailedPrecondition,
                "socketTextStream " + address_ +
                    ": writeAheadLog needs a checkpoint directory; call ssc.checkpoint(dir) before start()");
  }
  if (!wal_) {
    WriteAheadLogOptions o;
    o.segmentBytes = std::uint64_t{1} << 20;  // small segments, so cleanup frees disk soon
    wal_ = std::make_unique<WriteAheadLog>((checkpointDir / "receivedData" / std::to_string(id())).string(), o);
  }
}

void SocketInputNode::writeInputs(BinaryWriter& w, Time after, Time upTo) const {
  w.write(wal_ != nullptr);
  if (!wal_) return;
  w.write(after);
  replay_.write(w, after, upTo);
}

void SocketInputNode::readInputs(BinaryReader& r, Time upTo) {
  if (!r.read<bool>()) return;  // written without a log: nothing to replay
  Time after = r.read<Time>();
  auto taken = replay_.readBatches(r);
  if (!r.atEnd()) r.fail("unexpected trailing bytes");
  if (!wal_) return;  // the log was turned off: batches re-run with what arrives now
  // Blocks logged after `after` that no completed batch took were received but not
  // processed: they go back into the queue, in log order, for the next batches.
  std::vector<RecordHandle> done;
  for (const auto& [t, hs] : taken) done.insert(done.end(), hs.begin(), hs.end());
  replay_.recover(std::move(taken), upTo);
  std::sort(done.begin(), done.end());
  requeueing_ = true;
  wal_->forEach(RecordHandle{}, [&](WalRecord&& rec) {
    if (rec.tag <= static_cast<std::uint64_t>(toMillis(after))) return;
    if (std::binary_search(done.begin(), done.end(), rec.handle)) return;
    LineBlockPtr block = decodeBlock(rec.payload, wal_->directory().string());
    {
      std::lock_guard lock(handlesMu_);
      logged_[block.get()] = rec.handle;
    }
    queue_.add(timeFromMillis(static_cast<std::int64_t>(rec.tag)), std::move(block));
  });
  requeueing_ = false;
}

void SocketInputNode::forgetInputsBefore(Time oldest) {
  // A block may be taken one batch after its own (it closed late): keep one more batch.
  std::int64_t below = toMillis(oldest) - slideDuration().count();
  if (wal_ && below > 0) wal_->deleteSegmentsWithTagsBelow(static_cast<std::uint64_t>(below));
}

}  // namespace dstream::detail
