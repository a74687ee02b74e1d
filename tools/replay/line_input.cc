#include "replay/line_input.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "dstream/error.h"

namespace dstream::tools {
namespace {

constexpr std::size_t kReadBytes = 1 << 20;

bool isStdinName(const std::filesystem::path& p) { return p == "-"; }

}  // namespace

LineInput::LineInput(std::vector<std::filesystem::path> files, std::optional<std::string> text,
                     bool loop)
    : files_(std::move(files)), text_(std::move(text)), loop_(loop), buf_(2 * kReadBytes) {
  if (text_) return;
  if (std::count_if(files_.begin(), files_.end(), isStdinName) > 1) {
    throw Error(ErrorCode::kInvalidArgument, "stdin ('-') is named more than once; name it once");
  }
  for (const auto& f : files_) {
    std::error_code ec;
    if (!isStdinName(f) && (!std::filesystem::exists(f, ec) || std::filesystem::is_directory(f, ec))) {
      throw Error(ErrorCode::kNotFound, "input file '" + f.string() +
                                            "' does not exist or is a directory; check the path");
    }
  }
}

LineInput::~LineInput() { closeSource(); }

void LineInput::closeSource() {
  if (fd_ >= 0 && !isStdin_) ::close(fd_);
  fd_ = -1;
  open_ = false;
}

bool LineInput::openNextSource() {
  std::size_t count = text_ ? 1 : files_.size();
  if (next_ == count) {
    if (!loop_ || !passHadData_) return false;
    next_ = 0;
    passHadData_ = false;
  }
  std::size_t i = next_++;
  isStdin_ = false;
  memory_ = {};
  memoryPos_ = 0;
  if (text_) {
    memory_ = *text_;
  } else if (isStdinName(files_[i])) {
    if (stdinCached_) {
      memory_ = stdinCache_;
    } else {
      fd_ = STDIN_FILENO;
      isStdin_ = true;
    }
  } else {
    fd_ = ::open(files_[i].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      throw Error(ErrorCode::kNotFound, "cannot open input file '" + files_[i].string() +
                                            "': " + ::strerror(errno));
    }
  }
  open_ = true;
  return true;
}

LineInput::Fill LineInput::refill() {
  if (pos_ > 0 && buf_.size() - end_ < kReadBytes) {  // compact to make room
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (buf_.size() - end_ < kReadBytes) buf_.resize(buf_.size() * 2);  // a very long line
  if (fd_ < 0) {
    std::size_t n = std::min(kReadBytes, memory_.size() - memoryPos_);
    if (n == 0) return Fill::kSourceEnd;
    std::memcpy(buf_.data() + end_, memory_.data() + memoryPos_, n);
    memoryPos_ += n;
    end_ += n;
    return Fill::kData;
  }
  if (isStdin_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) return Fill::kWouldBlock;
  }
  ssize_t n;
  do {
    n = ::read(fd_, buf_.data() + end_, kReadBytes);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return Fill::kWouldBlock;
  if (n < 0) {
    throw Error(ErrorCode::kInternal, std::string("cannot read input ") +
                                          (isStdin_ ? "stdin" : "file") + ": " + ::strerror(errno));
  }
  if (n == 0) {
    if (isStdin_ && loop_) stdinCached_ = true;
    return Fill::kSourceEnd;
  }
  if (isStdin_ && loop_) stdinCache_.append(buf_.data() + end_, static_cast<std::size_t>(n));
  end_ += static_cast<std::size_t>(n);
  return Fill::kData;
}

LineInput::Status LineInput::take(std::string& out, uint64_t maxLines, std::size_t maxBytes,
                                  uint64_t* lines) {
  uint64_t taken = 0;
  bool gave = false;  // a piece of an over-long line was appended
  while (taken < maxLines) {
    const char* begin = buf_.data() + pos_;
    std::size_t avail = end_ - pos_;
    std::size_t room = out.size() < maxBytes ? maxBytes - out.size() : 0;
    // Fast path: a whole window of lines at once, counted with countNewlines.
    std::size_t window = std::min(avail, room);
    if (maxLines - taken > 64 && window > 0) {
      const void* last = ::memrchr(begin, '\n', window);
      if (last != nullptr) {
        std::size_t len = static_cast<const char*>(last) - begin + 1;
        auto n = static_cast<uint64_t>(countNewlines(begin, len));
        if (n <= maxLines - taken) {
          out.append(begin, len);
          pos_ += len;
          taken += n;
          continue;
        }
      }
    }
    const void* nl = avail > 0 ? std::memchr(begin, '\n', avail) : nullptr;
    if (nl != nullptr) {
      std::size_t len = static_cast<const char*>(nl) - begin + 1;
      if ((taken > 0 || !out.empty()) && len > room) break;
      out.append(begin, len);
      pos_ += len;
      ++taken;
      continue;
    }
    if (avail >= kMaxLinePieceBytes) {
      // A line longer than the buffer: stream it through in pieces (as nc would) instead of
      // holding it whole; it counts as a line when its '\n' goes out.
      if (room == 0) break;
      std::size_t piece = std::min(avail, room);
      out.append(begin, piece);
      pos_ += piece;
      gave = true;
      continue;
    }
    if (!open_ && !openNextSource()) break;
    Fill f = refill();
    if (f == Fill::kWouldBlock) {
      if (taken == 0 && !gave) return Status::kWouldBlock;
      break;
    }
    if (f == Fill::kData) {
      passHadData_ = true;
    } else {
      closeSource();
      if (end_ > pos_) {  // a last line without '\n'
        if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
        buf_[end_++] = '\n';
      }
    }
  }
  *lines += taken;
  return taken > 0 || gave || (open_ || pos_ < end_) || maxLines == 0 ? Status::kOk : Status::kEnd;
}

}  // namespace dstream::tools
