#include "checkpoint/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "dstream/log.h"

namespace dstream::detail {

void warn(const WarningSink& sink, const std::string& message) {
  if (sink) {
    sink(message);
  } else {
    logLine(LogLevel::kWarning, message);  // the context's sink, or stderr outside a context
  }
}

std::string ioErrorMessage(std::string_view what, const std::filesystem::path& path, int err) {
  return fmt::format("{} {}: {}", what, path.string(), std::strerror(err));
}

FileDescriptor::FileDescriptor(FileDescriptor&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

void FileDescriptor::writeAll(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::kInternal, ioErrorMessage("cannot write", path_, errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void FileDescriptor::writeAllAt(std::string_view bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::kInternal, ioErrorMessage("cannot write", path_, errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

std::string FileDescriptor::readAt(std::uint64_t offset, std::size_t n) const {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::kInternal, ioErrorMessage("cannot read", path_, errno));
    }
    if (r == 0) break;  // end of file
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

std::uint64_t FileDescriptor::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    throw Error(ErrorCode::kInternal, ioErrorMessage("cannot stat", path_, errno));
  }
  return static_cast<std::uint64_t>(st.st_size);
}

void FileDescriptor::sync() {
  if (::fsync(fd_) != 0) {
    throw Error(ErrorCode::kInternal, ioErrorMessage("cannot fsync", path_, errno));
  }
}

void FileDescriptor::truncate(std::uint64_t length) {
  if (::ftruncate(fd_, static_cast<off_t>(length)) != 0) {
    throw Error(ErrorCode::kInternal, ioErrorMessage("cannot truncate", path_, errno));
  }
}

void FileDescriptor::close() {
  if (fd_ < 0) return;
  // Linux closes the descriptor even when close() fails, so never retry it.
  int rc = ::close(std::exchange(fd_, -1));
  if (rc != 0 && errno != EINTR) {
    throw Error(ErrorCode::kInternal, ioErrorMessage("cannot close", path_, errno));
  }
}

FileDescriptor openFile(const std::filesystem::path& path, int flags, int mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    throw Error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInternal,
                ioErrorMessage("cannot open", path, err));
  }
  return FileDescriptor(fd, path);
}

void syncDirectory(const std::filesystem::path& dir) {
  FileDescriptor fd = openFile(dir, O_RDONLY | O_DIRECTORY);
  if (::fsync(fd.get()) != 0 && errno != EINVAL) {
    throw Error(ErrorCode::kInternal, ioErrorMessage("cannot fsync directory", dir, errno));
  }
}

std::filesystem::path localPathFromUri(std::string_view uri, std::string_view what) {
  if (uri.empty()) {
    throw Error(ErrorCode::kInvalidArgument, fmt::format("{}: the name is empty", what));
  }
  // A scheme is letters, digits, '+', '-' or '.', starting with a letter, then ':'.
  std::size_t colon = uri.find(':');
  bool hasScheme = colon != std::string_view::npos && colon > 0 &&
                   std::isalpha(static_cast<unsigned char>(uri[0]));
  for (std::size_t i = 0; hasScheme && i < colon; ++i) {
    char c = uri[i];
    hasScheme = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  }
  // "c:/x" style names without "//" and not "file:" are ordinary relative paths.
  if (!hasScheme) return std::filesystem::path(uri);
  std::string scheme(uri.substr(0, colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = uri.substr(colon + 1);
  if (scheme != "file") {
    if (rest.substr(0, 2) != "//") return std::filesystem::path(uri);
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} \"{}\" uses scheme \"{}\", which dstream does not support; use a "
                            "local path or file:///absolute/path",
                            what, uri, scheme));
  }
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    std::size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("{} \"{}\" names host \"{}\"; dstream reads only local files, so "
                              "use file:///absolute/path",
                              what, uri, host));
    }
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  if (rest.empty() || rest[0] != '/') {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} \"{}\" is not an absolute file URI; use file:///absolute/path",
                            what, uri));
  }
  return std::filesystem::path(rest);
}

void ensureWritableDirectory(const std::filesystem::path& dir, std::string_view what) {
  std::error_code ec;
  auto status = std::filesystem::status(dir, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_directory(status)) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} {} exists but is not a directory; remove it or choose another path",
                            what, dir.string()));
  }
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    ErrorCode code = ec == std::errc::not_a_directory ? ErrorCode::kInvalidArgument
                                                      : ErrorCode::kFailedPrecondition;
    throw Error(code, fmt::format("{} {} cannot be created: {}", what, dir.string(),
                                  ec.message()));
  }
  // access(W_OK) is not enough: it ignores read-only mounts and ACL details, and root
  // passes it. Creating a file is the real test.
  static std::atomic<unsigned> counter{0};
  auto probe = dir / fmt::format(".dstream-probe-{}-{}", ::getpid(), counter++);
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw Error(ErrorCode::kFailedPrecondition,
                fmt::format("{} {} is not writable: {}", what, dir.string(),
                            std::strerror(errno)));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace dstream::detail
