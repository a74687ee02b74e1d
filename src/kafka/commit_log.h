// The commit records of exactly-once sinks (CommittedBatch in dstream/kafka.h): one text record
// per committed transaction, keyed by the sink's transactionalId, readable with kcat:
//
//   dstream-commit 1
//   batch <batch time, ms since the epoch>
//   written <topic> <partition> <fromOffset> <untilOffset>     one line per output partition
//   read <topic> <partition> <fromOffset> <untilOffset>        one line per input partition
//
// Internal to src/kafka.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dstream/kafka.h"

namespace dstream::kafka::detail {

std::string encodeCommit(const CommittedBatch& batch);
// std::nullopt for a record that is not a commit record (another writer's, or damaged).
std::optional<CommittedBatch> decodeCommit(std::string_view key, std::string_view value);

}  // namespace dstream::kafka::detail
