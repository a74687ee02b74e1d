#include "inputs.h"

#include <cstring>

#include "datagen/datagen.h"

namespace dstream::bench {

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    const char* e = nl ? static_cast<const char*>(nl) : end;
    lines.emplace_back(p, static_cast<std::size_t>(e - p));
    p = e + 1;
  }
  return lines;
}

Input makeInput(DataKind kind, std::size_t records, std::size_t poolSize, std::uint64_t vocab) {
  Input in;
  in.recordsPerBatch = records;
  in.vocab = kind == DataKind::kWRecords ? vocab : 0;
  datagen::WRecords words(kind == DataKind::kWRecords ? vocab : 1);
  for (std::size_t i = 0; i < poolSize; ++i) {
    auto text = std::make_shared<std::string>();
    std::uint64_t first = i * records;
    switch (kind) {
      case DataKind::kWRecords: words.append(*text, first, records); break;
      case DataKind::kYsb: datagen::appendYsbEvents(*text, 1, first, records); break;
      case DataKind::kMeetup: datagen::appendMeetupRecords(*text, 1, first, records); break;
    }
    LineBatch batch;
    batch.lines = splitLines(*text);
    batch.bytes = std::move(text);
    in.pool.push_back(std::move(batch));
  }
  return in;
}

}  // namespace dstream::bench
