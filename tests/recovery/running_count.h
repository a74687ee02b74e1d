// A stateful node of the tests' own (a running word count with checkpointed state), so that
// recovery is tested independently of updateStateByKey; and the pipeline the recovery tests
// and the crash program share.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dstream/dstream.h"
#include "dstream/serialize.h"

namespace dstream::test {

// Emits, every batch, (word, count so far) for every word seen, sorted by word.
class RunningCountNode final : public detail::TypedNode<std::pair<std::string, long>> {
 public:
  using Out = std::pair<std::string, long>;
  RunningCountNode(detail::Graph* c, std::shared_ptr<detail::TypedNode<std::string_view>> parent)
      : TypedNode<Out>(c, "runningCount", {parent.get()}, parent->slideDuration()), parent_(std::move(parent)) {}

  bool hasState() const override { return true; }
  void writeState(BinaryWriter& w) const override {
    w.write(lastTime_);
    w.write(counts_);
  }
  void readState(BinaryReader& r) override {
    lastTime_ = r.read<std::optional<Time>>();
    counts_ = r.read<std::map<std::string, long>>();
  }

 protected:
  std::optional<RDD<Out>> compute(Time t) override {
    // A re-run of a batch the state already holds would count it twice.
    if (lastTime_ && t <= *lastTime_) throw Error(ErrorCode::kInternal, "runningCount: batch computed twice");
    if (auto in = parent_->getOrCompute(t)) {
      for (auto w : in->collect()) ++counts_[std::string(w)];
    }
    lastTime_ = t;
    return RDD<Out>::parallelize(std::vector<Out>(counts_.begin(), counts_.end()));
  }

 private:
  std::shared_ptr<detail::TypedNode<std::string_view>> parent_;
  std::optional<Time> lastTime_;
  std::map<std::string, long> counts_;
};

inline DStream<std::pair<std::string, long>> runningCount(const DStream<std::string_view>& words,
                                                          const std::string& uid = "") {
  auto node = words.graph()->addNode<RunningCountNode>(words.node());
  if (!uid.empty()) node->setUid(uid);
  return DStream<std::pair<std::string, long>>(words.graph(), node);
}

inline DStream<std::string_view> wordsOf(const DStream<std::string_view>& lines) {
  return lines.flatMap([](std::string_view l) { return splitWords(l); }).cache();
}

}  // namespace dstream::test
