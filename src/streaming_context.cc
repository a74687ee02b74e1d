// The top layer: parses the master, wires the sources and the engine core behind the API.
#include "dstream/streaming_context.h"

#include <charconv>
#include <thread>

#include "util/file_io.h"
#include "core/context_core.h"
#include "sources/rate_estimator.h"
#include "dstream/error.h"

namespace dstream {

int parseMaster(std::string_view master) {
  auto bad = [&]() -> Error {
    return Error(ErrorCode::kInvalidArgument,
                 "master \"" + std::string(master) +
                     "\" is not supported; use \"local\", \"local[N]\" (N worker threads) or \"local[*]\"");
  };
  if (master == "local") return 1;
  if (master.size() < 8 || master.substr(0, 6) != "local[" || master.back() != ']') throw bad();
  auto inner = master.substr(6, master.size() - 7);
  if (inner == "*") return std::max(1u, std::thread::hardware_concurrency());
  int n = 0;
  auto [ptr, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), n);
  if (ec != std::errc() || ptr != inner.data() + inner.size() || n < 1 || n > 1024) throw bad();
  return n;
}

StreamingContext::StreamingContext(std::string_view master, Duration batchDuration, ContextOptions options) {
  int workers = parseMaster(master);
  if (batchDuration.count() <= 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "batch duration " + formatDuration(batchDuration) + " must be positive, e.g. Seconds(1)");
  }
  // Checked before the context exists (and takes the UI's port); settings that are off are not
  // checked, as in Spark.
  if (options.backpressure.enabled) detail::PidRateEstimator::validate(options.backpressure);
  core_ = std::make_shared<detail::ContextCore>(workers, batchDuration, std::move(options));
  graph_ = core_;
}

StreamingContext::~StreamingContext() {
  if (core_) core_->stop(false);
}

void StreamingContext::checkpoint(const std::string& directory) { core_->setCheckpointDirectory(directory); }

void StreamingContext::remember(Duration duration) { core_->remember(duration); }

void StreamingContext::setStateCheckpointInterval(Duration interval) { core_->setStateCheckpointInterval(interval); }

std::unique_ptr<StreamingContext> StreamingContext::getOrCreate(
    const std::string& directory, const std::function<std::unique_ptr<StreamingContext>()>& setup) {
  auto ctx = setup();
  if (!ctx) throw Error(ErrorCode::kInvalidArgument, "getOrCreate: the setup function returned no context");
  if (ctx->core_->checkpointDirectory().empty()) {
    ctx->checkpoint(directory);
  } else {
    std::error_code ec;
    auto mine = std::filesystem::weakly_canonical(detail::localPathFromUri(directory, "checkpoint directory"), ec);
    auto theirs = std::filesystem::weakly_canonical(ctx->core_->checkpointDirectory(), ec);
    if (mine != theirs) {
      throw Error(ErrorCode::kInvalidArgument, "getOrCreate(\"" + directory + "\"): the setup function checkpoints to " +
                                                   ctx->core_->checkpointDirectory() + "; use the same directory in both");
    }
  }
  ctx->recovering_ = ctx->core_->loadCheckpoint();
  return ctx;
}

void StreamingContext::start() { core_->start(); }
void StreamingContext::stop(bool stopGracefully) { core_->stop(stopGracefully); }
void StreamingContext::awaitTermination() { core_->awaitTermination(); }
bool StreamingContext::awaitTerminationOrTimeout(Duration timeout) {
  return core_->awaitTerminationOrTimeout(timeout);
}
std::optional<std::string> StreamingContext::uiWebUrl() const { return core_->uiWebUrl(); }

StreamingContext::State StreamingContext::getState() const {
  return static_cast<State>(core_->state());
}
void StreamingContext::addStreamingListener(std::shared_ptr<StreamingListener> listener) {
  core_->addListener(std::move(listener));
}

}  // namespace dstream

#include "sources/input_nodes.h"

namespace dstream {

DStream<std::string_view> StreamingContext::textFileStream(const std::string& directory, FileStreamOptions options) {
  graph_->checkCanDefine("textFileStream");
  return DStream<std::string_view>(graph_, graph_->addNode<detail::FileInputNode>(directory, options));
}

DStream<std::string_view> StreamingContext::binaryRecordsStream(const std::string& directory, int recordLength,
                                                                FileStreamOptions options) {
  graph_->checkCanDefine("binaryRecordsStream");
  if (recordLength <= 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "binaryRecordsStream: recordLength must be positive (the bytes in each record), got " +
                    std::to_string(recordLength));
  }
  return DStream<std::string_view>(graph_, graph_->addNode<detail::FileInputNode>(directory, options, recordLength));
}

DStream<std::string_view> StreamingContext::socketTextStream(const std::string& host, int port,
                                                             SocketStreamOptions options) {
  graph_->checkCanDefine("socketTextStream");
  return DStream<std::string_view>(graph_, graph_->addNode<detail::SocketInputNode>(host, port, options));
}

}  // namespace dstream
