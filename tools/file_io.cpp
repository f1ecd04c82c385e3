#include "tools/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace beluga::tools {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes a file descriptor at scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

}  // namespace

Result<FileContent> read_confined(const ConfinedPath& path, uint64_t max_bytes) {
  Result<int> opened = open_confined(path, O_RDONLY | O_NONBLOCK);
  if (!opened) {
    struct stat st {};
    // A missing leaf is "does not exist"; anything else (a symlink swapped in,
    // permissions) is an error.
    if (::lstat(path.absolute.c_str(), &st) != 0 && errno == ENOENT) return FileContent{};
    return opened.error();
  }
  Fd fd(*opened);
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) return make_error("cannot stat " + display_path(path) + ": " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) return make_error(display_path(path) + " is a folder, not a file; use list to see its entries");
  if (!S_ISREG(st.st_mode)) return make_error(display_path(path) + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return make_error(display_path(path) + " is " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                      std::to_string(max_bytes) + " bytes for this tool");
  FileContent content;
  content.exists = true;
  content.mode = st.st_mode & 07777;
  content.bytes.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < content.bytes.size()) {
    ssize_t n = ::read(fd.fd, content.bytes.data() + done, content.bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("cannot read " + display_path(path) + ": " + errno_text(errno));
    if (n == 0) break;  // shrank while reading: keep what is there
    done += static_cast<size_t>(n);
  }
  content.bytes.resize(done);
  // Grown while reading: refuse rather than return a torn view.
  char extra;
  if (::read(fd.fd, &extra, 1) > 0) return make_error(display_path(path) + " changed while it was being read; try again");
  return content;
}

Result<FileContent> read_current(const ToolContext& context, const ConfinedPath& path, uint64_t max_bytes) {
  Result<FileContent> content = read_confined(path, max_bytes);
  if (!content || !content->exists || !context.files || !context.files->read) return content;
  auto front = context.files->read(path.absolute);
  if (!front) return make_error("the editor could not give its text of " + display_path(path) + ": " + front.message());
  if (*front) {
    if ((*front)->size() > max_bytes)
      return make_error(display_path(path) + " is larger than " + std::to_string(max_bytes) + " bytes in the editor");
    content->bytes = std::move(**front);
  }
  return content;
}

Status write_current(const ToolContext& context, const ConfinedPath& path, std::string_view bytes,
                     std::optional<mode_t> mode) {
  if (context.files && context.files->write) {
    auto written = context.files->write(path.absolute, bytes);
    if (!written) return make_error("the editor refused to write " + display_path(path) + ": " + written.message());
    if (*written) return {};
  }
  return write_confined_atomically(path, bytes, mode);
}

Status write_confined_atomically(const ConfinedPath& path, std::string_view bytes, std::optional<mode_t> mode) {
  Result<ConfinedParent> parent = open_confined_parent(path, /*create_missing=*/true);
  if (!parent) return parent.error();
  Fd dir(parent->dir_fd);
  const std::string& name = parent->name;
  std::string shown = display_path(path);

  struct stat st {};
  if (::fstatat(dir.fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) return make_error(shown + " is a folder; a file cannot replace it");
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return make_error(shown + " is not a regular file");
    if (!mode && S_ISREG(st.st_mode)) mode = st.st_mode & 07777;
  }

  std::random_device rd;
  std::string tmp = "." + name.substr(0, 100) + ".beluga-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  int raw = ::openat(dir.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (raw < 0) return make_error("cannot create a temporary file next to " + shown + ": " + errno_text(errno));
  Fd fd(raw);
  auto fail = [&](const std::string& message) -> Status {
    ::unlinkat(dir.fd, tmp.c_str(), 0);
    return make_error(message);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write " + shown + ": " + errno_text(errno));
    done += static_cast<size_t>(n);
  }
  if (mode && ::fchmod(fd.fd, *mode) != 0) return fail("cannot set the mode of " + shown + ": " + errno_text(errno));
  if (::fsync(fd.fd) != 0) return fail("cannot write " + shown + " to disk: " + errno_text(errno));
  if (::close(fd.fd) != 0) {
    fd.fd = -1;
    return fail("cannot write " + shown + ": " + errno_text(errno));
  }
  fd.fd = -1;
  if (::renameat(dir.fd, tmp.c_str(), dir.fd, name.c_str()) != 0)
    return fail("cannot move the new " + shown + " into place: " + errno_text(errno));
  ::fsync(dir.fd);
  return {};
}

Status remove_confined(const ConfinedPath& path) {
  Result<ConfinedParent> parent = open_confined_parent(path, /*create_missing=*/false);
  if (!parent) return parent.error();
  Fd dir(parent->dir_fd);
  if (::unlinkat(dir.fd, parent->name.c_str(), 0) != 0)
    return make_error("cannot remove " + display_path(path) + ": " + errno_text(errno));
  ::fsync(dir.fd);
  return {};
}

std::string content_hash(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char text[40];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return std::string(text) + ":" + std::to_string(bytes.size());
}

bool looks_binary(std::string_view bytes) {
  return bytes.substr(0, 8000).find('\0') != std::string_view::npos;
}

bool uses_crlf(std::string_view bytes) {
  size_t crlf = 0, lf = 0;
  for (size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] == '\n') (i > 0 && bytes[i - 1] == '\r' ? crlf : lf)++;
  return crlf > lf;
}

namespace {

// Length of the valid UTF-8 sequence at `s[i]`, or 0 when it is invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    size_t n = utf8_sequence(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string to_valid_utf8(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 16);
  for (size_t i = 0; i < bytes.size();) {
    size_t n = utf8_sequence(bytes, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string display_path(const ConfinedPath& path) { return path.relative.string(); }

}  // namespace beluga::tools
