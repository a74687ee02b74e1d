// Fuzzes detail::LineSplitter, which splits the bytes a socket receiver gets into lines.
// Input: byte 0 picks maxLineBytes, byte 1 seeds how the rest is cut into chunks and when
// blocks are sealed, the rest is the stream. Checks the lines against a one-line model of
// the contract (split on '\n', drop one '\r' before it, drop lines over the limit), and
// that the memory bound and the views into sealed blocks hold.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "sources/line_splitter.h"

namespace {

using dstream::detail::LineBlockPtr;
using dstream::detail::LineSplitter;

struct Expected {
  std::vector<std::string> lines;
  std::int64_t dropped = 0;
};

Expected model(std::string_view text, std::size_t maxLineBytes) {
  Expected e;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > maxLineBytes) {
      ++e.dropped;
    } else {
      e.lines.emplace_back(line);
    }
    pos = end + 1;
  }
  return e;
}

// A small deterministic generator: the same input must always run the same way.
struct Rng {
  std::uint32_t state;
  std::uint32_t next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // Mostly small limits, where dropping happens; sometimes the default, where it does not.
  std::size_t maxLineBytes =
      data[0] >= 240 ? dstream::detail::kDefaultMaxLineBytes : std::size_t{1} + data[0] % 40;
  Rng rng{0x9e3779b9u ^ (std::uint32_t{data[1]} * 0x01010101u)};
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  LineSplitter splitter("fuzz", maxLineBytes);
  std::vector<LineBlockPtr> blocks;
  auto seal = [&] {
    std::size_t pending = splitter.pendingLines();
    LineBlockPtr block = splitter.sealBlock();
    FUZZ_CHECK((block == nullptr) == (pending == 0));
    if (!block) return;
    FUZZ_CHECK(block->lines.size() == pending);
    std::string_view all(block->bytes);
    for (std::string_view line : block->lines) {
      FUZZ_CHECK(line.data() >= all.data() && line.data() + line.size() <= all.data() + all.size());
    }
    blocks.push_back(std::move(block));
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::uint32_t r = rng.next();
    std::size_t chunk = r % 4 == 0 ? (r >> 8) % 3 : (r >> 8) % 64;  // 0-byte chunks too
    chunk = std::min(chunk, text.size() - pos);
    splitter.feed(text.substr(pos, chunk));
    pos += chunk;
    if ((r >> 20) % 5 == 0) seal();
    // Without complete lines, the open block is one partial line of at most the limit plus
    // a '\r': an over-long line is never buffered whole.
    if (splitter.pendingLines() == 0) FUZZ_CHECK(splitter.bufferedBytes() <= maxLineBytes + 1);
  }
  splitter.flush();
  seal();
  FUZZ_CHECK(splitter.pendingLines() == 0 && splitter.bufferedBytes() == 0);

  Expected expected = model(text, maxLineBytes);
  std::vector<std::string> got;
  for (const auto& block : blocks) {
    for (std::string_view line : block->lines) got.emplace_back(line);
  }
  FUZZ_CHECK(got == expected.lines);
  FUZZ_CHECK(splitter.linesProduced() == static_cast<std::int64_t>(expected.lines.size()));
  FUZZ_CHECK(splitter.linesDropped() == expected.dropped);
  // With no '\r' and nothing dropped, the lines joined with newlines are the input.
  if (expected.dropped == 0 && text.find('\r') == std::string_view::npos) {
    std::string joined;
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (i > 0) joined += '\n';
      joined += got[i];
    }
    if (!text.empty() && text.back() == '\n') joined += '\n';
    FUZZ_CHECK(joined == text);
  }
  return 0;
}
