#include "eval/text_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "common/error.h"
#include "eval/unicode.h"

namespace gnmt {

std::vector<std::string> split_text_lines(std::string_view data, const std::string& name) {
  if (data.size() >= 3 && data.compare(0, 3, "\xEF\xBB\xBF") == 0) data.remove_prefix(3);
  std::vector<std::string> lines;
  std::size_t start = 0;
  std::size_t lineno = 0;
  while (start < data.size()) {
    std::size_t end = data.find('\n', start);
    const std::size_t next = end == std::string_view::npos ? data.size() : end + 1;
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(start, end - start);
    ++lineno;
    const std::size_t bad = unicode::find_invalid_utf8(line);
    if (bad != std::string_view::npos) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "invalid UTF-8 (byte 0x%02X at column %zu)",
                    static_cast<unsigned>(static_cast<unsigned char>(line[bad])), bad + 1);
      throw Error(name + ":" + std::to_string(lineno) + ": " + buf);
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = next;
  }
  return lines;
}

std::vector<std::string> read_text_lines(std::istream& in, const std::string& name) {
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(name + ": read error");
  return split_text_lines(data, name);
}

std::vector<std::string> read_text_lines(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": cannot open (is a directory)");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error(path + ": cannot open (" + std::string(err ? std::strerror(err) : "unknown error") + ")");
  }
  // One read into a buffer of the file's size (growing if the file does), no stream copies.
  struct stat st {};
  std::string data;
  data.resize(::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 65536);
  std::size_t used = 0;
  while (true) {
    if (used == data.size()) data.resize(data.size() * 2);
    const ssize_t n = ::read(fd, data.data() + used, data.size() - used);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw Error(path + ": read error (" + std::string(std::strerror(errno)) + ")");
    }
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data.resize(used);
  return split_text_lines(data, path);
}

}  // namespace gnmt
