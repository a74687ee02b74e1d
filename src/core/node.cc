#include "dstream/detail/node.h"

#include <algorithm>

namespace dstream::detail {

Node::Node(ContextCore* context, std::string kind, std::vector<Node*> parents, Duration slide)
    : context_(context), kind_(std::move(kind)), parents_(std::move(parents)), slide_(slide),
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

}  // namespace dstream::detail
