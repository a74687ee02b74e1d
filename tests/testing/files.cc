#include "testing/files.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "testing/wait.h"

namespace dstream::testing {

TempDir::TempDir(std::string_view prefix) : TempDir(prefix, "/tmp") {}

TempDir::TempDir(std::string_view prefix, const std::filesystem::path& parent) {
  std::string pattern = (parent / prefix).string() + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  // A test may have made the directory read-only to provoke an error; remove_all needs it back.
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path_, ec);
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

namespace {
void write(const std::filesystem::path& path, std::string_view content, std::ios::openmode mode) {
  std::ofstream out(path, std::ios::binary | mode);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}
}  // namespace

void writeFile(const std::filesystem::path& path, std::string_view content) { write(path, content, std::ios::trunc); }

void writeFile(const std::filesystem::path& path, std::string_view content, Time mtime) {
  writeFile(path, content);
  setModTime(path, mtime);
}

void appendFile(const std::filesystem::path& path, std::string_view content) { write(path, content, std::ios::app); }

void flipByte(const std::filesystem::path& path, std::size_t offset) {
  std::string bytes = readFile(path);
  bytes.at(offset) = static_cast<char>(bytes.at(offset) ^ 0x40);
  writeFile(path, bytes);
}

void setModTime(const std::filesystem::path& path, Time mtime) {
  long ms = toMillis(mtime);
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = ms / 1000;
  times[0].tv_nsec = times[1].tv_nsec = (ms % 1000) * 1'000'000;
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    throw std::runtime_error("utimensat failed on " + path.string());
  }
}

namespace {
std::filesystem::path hiddenTemp(const std::filesystem::path& dir, std::string_view name) {
  std::string tmp = ".";
  tmp.append(name).append(".writing");
  return dir / tmp;
}
}  // namespace

void moveIn(const std::filesystem::path& dir, std::string_view name, std::string_view content) {
  auto tmp = hiddenTemp(dir, name);
  writeFile(tmp, content);
  std::filesystem::rename(tmp, dir / name);
}

void writeFileAt(const std::filesystem::path& dir, std::string_view name, std::string_view content, Time mtime) {
  auto tmp = hiddenTemp(dir, name);
  writeFile(tmp, content, mtime);
  std::filesystem::rename(tmp, dir / name);
}

bool waitForFile(const std::filesystem::path& path, Duration timeout) {
  int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) throw std::runtime_error("inotify_init1 failed");
  auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  // Watch first, then look: a file that appears in between is seen either way.
  if (::inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
    ::close(fd);
    throw std::runtime_error("cannot watch " + dir.string());
  }
  Deadline deadline(timeout);
  bool found;
  while (!(found = std::filesystem::exists(path)) && !deadline.passed()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, deadline.pollMillis()) > 0) {
      char events[4096];
      while (::read(fd, events, sizeof events) > 0) {
      }
    }
  }
  ::close(fd);
  return found;
}

}  // namespace dstream::testing
