#include "dstream/detail/node.h"

#include <algorithm>
#include <string>

#include "dstream/error.h"
#include "dstream/operations/common.h"

namespace dstream::detail {

Node::Node(Graph* graph, std::string kind, std::vector<Node*> parents, Duration slide)
    : graph_(graph), kind_(std::move(kind)), parents_(std::move(parents)), slide_(slide),
      remember_(slide) {}

void Node::rememberAtLeast(Duration d) {
  remember_ = std::max(remember_, d);
  for (Node* p : parents_) p->rememberAtLeast(remember_);
}

void Node::initialize(Time zeroTime) {
  zeroTime_ = zeroTime;
  for (Node* p : parents_) p->initialize(zeroTime);
}

bool Node::isTimeValid(Time t) const {
  return t > zeroTime_ && (t - zeroTime_).count() % slide_.count() == 0;
}

void throwNoBatch(const Node& parent, Time t, std::string_view operation) {
  std::string name = "stream " + std::to_string(parent.id()) + " (" + parent.kind();
  if (!parent.uid().empty()) name += ", uid \"" + parent.uid() + "\"";
  throw Error(ErrorCode::kInternal, std::string(operation) + ": " + name + ") has no batch at " +
                                        std::to_string(toMillis(t)) + " ms; every stream " + std::string(operation) +
                                        " reads must yield a batch at each of its batch times (an empty one if "
                                        "there is no data)");
}

void validateSameSlide(std::string_view operation, Duration a, Duration b) {
  if (a != b) {
    throw Error(ErrorCode::kInvalidArgument, std::string(operation) + ": the streams have different slide durations (" +
                    formatDuration(a) + " and " + formatDuration(b) + "); window them to the same slide first");
  }
}

}  // namespace dstream::detail
