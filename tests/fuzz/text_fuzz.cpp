// libFuzzer target: the corpus reader (split_text_lines, which read_text_lines and load_parallel use for every
// corpus, translation input and reference file). Either the text is rejected with a gnmt::Error naming the line
// (invalid UTF-8), or the lines obey the documented contract: as many lines as '\n' (plus one for a last line
// without one), no '\n' inside, one trailing '\r' dropped, a leading BOM dropped, all valid UTF-8.
// Build and run: scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/error.h"
#include "eval/text_io.h"
#include "eval/unicode.h"

namespace {
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "contract broken: %s\n", what);
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto lines = gnmt::split_text_lines(text, "fuzz.txt");
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    size_t newlines = 0;
    for (char c : text) newlines += c == '\n';
    const size_t expected = newlines + (!text.empty() && text.back() != '\n' ? 1 : 0);
    check(lines.size() == expected, "line count");
    std::string rebuilt;
    size_t start = 0;
    for (const auto& line : lines) {
      check(line.find('\n') == std::string::npos, "newline inside a line");
      check(gnmt::unicode::find_invalid_utf8(line) == std::string_view::npos, "invalid UTF-8 passed");
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view raw = text.substr(start, end - start);
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      check(raw == line, "line differs from the input");
      start = end + 1;
    }
  } catch (const gnmt::Error&) {
    // Invalid UTF-8, reported with file, line and column.
  }
  return 0;
}
