#include "dstream/serialize.h"

#include <fmt/format.h>

namespace dstream {

void BinaryReader::fail(std::string_view what, std::size_t at) const {
  throw Error(ErrorCode::kDataLoss,
              fmt::format("{}: {} at offset {} of {}", context_, what, at, data_.size()));
}

void BinaryReader::failTruncated(std::string_view what, std::size_t at, std::size_t needed) const {
  std::string need = needed == 0 ? std::string() : fmt::format(" (need {} bytes, ", needed);
  if (needed != 0) need += fmt::format("{} left)", data_.size() - std::min(at, data_.size()));
  throw Error(ErrorCode::kDataLoss, fmt::format("{}: truncated input: {} at offset {} of {}{}",
                                                context_, what, at, data_.size(), need));
}

}  // namespace dstream
