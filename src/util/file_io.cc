#include "util/file_io.h"

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
namespace {

bool isHexDigit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// Decodes %XX escapes; a '%' not followed by two hex digits stays as it is.
std::string percentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isHexDigit(s[i + 1]) && isHexDigit(s[i + 2])) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

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

std::filesystem::path tempPathFor(const std::filesystem::path& target) {
  static std::atomic<std::uint64_t> counter{0};
  return target.parent_path() /
         fmt::format(".{}.tmp-{}-{}", target.filename().string(), ::getpid(), counter++);
}

bool isTempFileName(std::string_view fileName, std::string_view name) {
  if (fileName.size() < 2 || fileName[0] != '.') return false;
  std::size_t tmp = fileName.rfind(".tmp-");
  if (tmp == std::string_view::npos || tmp < 1) return false;
  if (!name.empty() && fileName.substr(1, tmp - 1) != name) return false;
  return tmp + 5 < fileName.size();
}

void writeFileSynced(const std::filesystem::path& path, std::string_view bytes) {
  FileDescriptor fd = openFile(path, O_WRONLY | O_CREAT | O_TRUNC);
  fd.writeAll(bytes);
  fd.sync();
  fd.close();
}

void writeFileAtomically(const std::filesystem::path& target,
                         const std::function<void(FileDescriptor&)>& write) {
  auto temp = tempPathFor(target);
  try {
    FileDescriptor fd = openFile(temp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    write(fd);
    fd.sync();
    fd.close();
    if (::rename(temp.c_str(), target.c_str()) != 0) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("cannot rename {} to {}: {}", temp.string(), target.string(),
                              std::strerror(errno)));
    }
  } catch (...) {
    ::unlink(temp.c_str());  // best effort; readers ignore temp names anyway
    throw;
  }
  syncDirectory(target.has_parent_path() ? target.parent_path() : std::filesystem::path("."));
}

void writeFileAtomically(const std::filesystem::path& target, std::string_view bytes) {
  writeFileAtomically(target, [bytes](FileDescriptor& fd) { fd.writeAll(bytes); });
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
  if (!hasScheme) return std::filesystem::path(uri);
  std::string scheme(uri.substr(0, colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = uri.substr(colon + 1);
  if (scheme != "file") {
    // "odd:name" is an ordinary relative path; "hdfs:/x" and "s3a://b/x" are URIs.
    if (!rest.starts_with('/')) return std::filesystem::path(uri);
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("{} \"{}\" uses scheme '{}', which dstream does not support; use a "
                            "local path or file:///absolute/path",
                            what, uri, scheme));
  }
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    std::size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost") {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("{} \"{}\" names host '{}'; dstream reads only local files, so "
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
  return std::filesystem::path(percentDecode(rest));
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
