#include "engine/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <random>
#include <vector>

namespace beluga {
namespace {

constexpr size_t kWriteBufferBytes = 1u << 20;

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Result<std::string> read_text_file(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(path + ": cannot open: " + errno_text());
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path + ": not a readable regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return make_error(path + ": file is " + std::to_string(st.st_size) +
                      " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = n < 0 ? errno_text() : "file shrank while reading";
      ::close(fd);
      return make_error(path + ": cannot read: " + why);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return text;
}

Status write_file_atomically(const std::string& path,
                             const std::function<Status(const AppendBytes&)>& fill) {
  std::random_device rd;
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(tmp + ": cannot create: " + errno_text());
  auto fail = [&](std::string message) -> Status {
    ::close(fd);
    ::unlink(tmp.c_str());
    return make_error(std::move(message));
  };
  // Appends are buffered: callers may append a few bytes at a time.
  std::vector<uint8_t> buffer;
  buffer.reserve(kWriteBufferBytes);
  auto flush = [&]() -> Status {
    size_t done = 0;
    while (done < buffer.size()) {
      ssize_t n = ::write(fd, buffer.data() + done, buffer.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error(path + ": write failed: " + errno_text());
      done += static_cast<size_t>(n);
    }
    buffer.clear();
    return {};
  };
  AppendBytes append = [&](std::span<const uint8_t> bytes) -> Status {
    while (!bytes.empty()) {
      size_t take = std::min(bytes.size(), kWriteBufferBytes - buffer.size());
      buffer.insert(buffer.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
      bytes = bytes.subspan(take);
      if (buffer.size() == kWriteBufferBytes)
        if (Status s = flush(); !s) return s;
    }
    return {};
  };
  if (Status s = fill(append); !s) return fail(s.message());
  if (Status s = flush(); !s) return fail(s.message());
  if (::fsync(fd) != 0) return fail(path + ": fsync failed: " + errno_text());
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return make_error(path + ": close failed: " + errno_text());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(tmp.c_str());
    return make_error(path + ": cannot rename into place: " + why);
  }
  return {};
}

Status write_text_file_atomically(const std::string& path, const std::string& text) {
  return write_file_atomically(path, [&](const AppendBytes& append) {
    return append({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  });
}

}  // namespace beluga
