// LineInput is LineServer's cursor through its input: files in order ("-" = stdin), or an
// in-memory string, optionally looping. It hands out whole lines (a missing final '\n' is
// added), except that a line longer than kMaxLinePieceBytes is handed out in pieces, so that
// memory stays bounded whatever the input. It never blocks on stdin: take() reports kWouldBlock
// and waitFd() names the fd to poll. Internal to dstream-replay; not thread-safe (one server
// thread owns it).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dstream::tools {

// Lines up to this long are handed out whole; longer ones in pieces of at most maxBytes.
inline constexpr std::size_t kMaxLinePieceBytes = std::size_t{1} << 20;

// Returns the number of '\n' in [p, p + n). std::count's vectorised form widens every byte's
// result to a 64-bit counter (a third of a paced 10 M lines/s sender's time went there); this
// sums 16 byte lanes for up to 255 rounds first, which compilers turn into byte compares and adds.
inline std::size_t countNewlines(const char* p, std::size_t n) {
  std::size_t total = 0;
  while (n >= 16) {
    const std::size_t rounds = std::min<std::size_t>(n / 16, 255);
    unsigned char lanes[16] = {};
    for (std::size_t r = 0; r < rounds; ++r, p += 16) {
      for (int j = 0; j < 16; ++j) lanes[j] = static_cast<unsigned char>(lanes[j] + (p[j] == '\n'));
    }
    for (unsigned char c : lanes) total += c;
    n -= rounds * 16;
  }
  for (; n > 0; --n, ++p) total += *p == '\n';
  return total;
}

class LineInput {
 public:
  enum class Status { kOk, kWouldBlock, kEnd };

  // Throws Error(kNotFound) naming the first input file that does not exist or is not a
  // regular file/pipe, Error(kInvalidArgument) if "-" is given more than once.
  LineInput(std::vector<std::filesystem::path> files, std::optional<std::string> text, bool loop);
  ~LineInput();
  LineInput(const LineInput&) = delete;
  LineInput& operator=(const LineInput&) = delete;

  // Appends up to maxLines whole lines to out, stopping before out would exceed maxBytes
  // (but always taking at least one line if one is available), and adds their number to
  // *lines. A line longer than kMaxLinePieceBytes is appended in pieces of at most maxBytes
  // (a call may return only a piece, adding 0 to *lines); the call that appends its '\n'
  // counts it. Returns kOk if anything was taken, kWouldBlock if stdin has no complete line
  // yet, kEnd at the end of the input (never with loop, unless the whole input is empty).
  // Throws Error(kNotFound/kInternal) if a file cannot be opened or read.
  Status take(std::string& out, uint64_t maxLines, std::size_t maxBytes, uint64_t* lines);

  // Returns the fd to poll for POLLIN after take() returned kWouldBlock (stdin).
  int waitFd() const { return 0; }

  // The bytes reserved for reading ahead (bounded: about 2 * kMaxLinePieceBytes).
  std::size_t bufferCapacity() const { return buf_.size(); }

 private:
  enum class Fill { kData, kWouldBlock, kSourceEnd };
  Fill refill();
  bool openNextSource();  // false when the input is exhausted for good
  void closeSource();

  std::vector<std::filesystem::path> files_;
  std::optional<std::string> text_;
  bool loop_;

  std::size_t next_ = 0;      // index of the next source to open
  int fd_ = -1;               // current file or stdin; -1 for a memory source
  bool isStdin_ = false;
  std::string_view memory_;   // current memory source (text_ or the cached stdin)
  std::size_t memoryPos_ = 0;
  bool open_ = false;
  bool passHadData_ = false;  // guards --loop over an empty input

  std::string stdinCache_;    // stdin's bytes from the first pass, replayed when looping
  bool stdinCached_ = false;

  std::vector<char> buf_;     // unconsumed bytes are buf_[pos_, end_)
  std::size_t pos_ = 0, end_ = 0;
};

}  // namespace dstream::tools
