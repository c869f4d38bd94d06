#include "eval/unicode.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

namespace gnmt::unicode {
namespace {

struct CodeRange {
  char32_t lo, hi;
};
struct LowerRun {
  char32_t first;
  int step, count, delta;
};
struct LowerMulti {
  char32_t cp;
  int n;
  char32_t to[3];
};

#include "eval/unicode_tables.inc"

template <std::size_t N>
bool in_ranges(const CodeRange (&table)[N], char32_t cp) {
  const CodeRange* end = table + N;
  const CodeRange* it =
      std::upper_bound(table, end, cp, [](char32_t c, const CodeRange& r) { return c < r.lo; });
  if (it == table) return false;
  --it;
  return cp <= it->hi;
}

// Decodes one strict UTF-8 sequence at p (n bytes available). Returns its length, or 0 if the
// bytes at p do not start a valid sequence.
inline int decode_one(const unsigned char* p, std::size_t n, char32_t& cp) {
  const unsigned c0 = p[0];
  if (c0 < 0x80) {
    cp = c0;
    return 1;
  }
  auto cont = [&](std::size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    if (!cont(1)) return 0;
    cp = ((c0 & 0x1F) << 6) | (p[1] & 0x3F);
    return 2;
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c0 == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c0 == 0xED && p[1] > 0x9F) return 0;  // surrogates
    cp = ((c0 & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    return 3;
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c0 == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c0 == 0xF4 && p[1] > 0x8F) return 0;  // above U+10FFFF
    cp = ((c0 & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    return 4;
  }
  return 0;
}

inline bool ascii_space(unsigned char c) { return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20); }

char32_t lower_single(char32_t cp) {
  const LowerRun* end = std::end(kLowerRuns);
  const LowerRun* it = std::upper_bound(std::begin(kLowerRuns), end, cp,
                                        [](char32_t c, const LowerRun& r) { return c < r.first; });
  if (it == std::begin(kLowerRuns)) return cp;
  --it;
  const char32_t off = cp - it->first;
  if (off % static_cast<char32_t>(it->step) != 0) return cp;
  if (off / static_cast<char32_t>(it->step) >= static_cast<char32_t>(it->count)) return cp;
  return static_cast<char32_t>(static_cast<std::int64_t>(cp) + it->delta);
}

// CPython's handle_capital_sigma: U+03A3 at index i is final if preceded by a cased letter
// (skipping case-ignorables) and not followed by one (skipping case-ignorables).
char32_t lower_sigma(std::u32string_view s, std::size_t i) {
  std::ptrdiff_t j = static_cast<std::ptrdiff_t>(i) - 1;
  char32_t c = 0;
  for (; j >= 0; --j) {
    c = s[static_cast<std::size_t>(j)];
    if (!is_case_ignorable(c)) break;
  }
  bool final_sigma = j >= 0 && is_cased(c);
  if (final_sigma && i + 1 < s.size()) {
    std::size_t k = i + 1;
    for (; k < s.size(); ++k) {
      c = s[k];
      if (!is_case_ignorable(c)) break;
    }
    final_sigma = k == s.size() || !is_cased(c);
  }
  return final_sigma ? 0x3C2 : 0x3C3;
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    char32_t cp;
    const int len = decode_one(p + i, n - i, cp);
    if (len == 0) return i;
    i += static_cast<std::size_t>(len);
  }
  return std::string_view::npos;
}

void decode_utf8(std::string_view s, std::u32string& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  out.reserve(out.size() + n);
  std::size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      out.push_back(p[i++]);
      continue;
    }
    char32_t cp;
    const int len = decode_one(p + i, n - i, cp);
    if (len == 0) {
      out.push_back(kReplacementChar);
      ++i;
    } else {
      out.push_back(cp);
      i += static_cast<std::size_t>(len);
    }
  }
}

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  decode_utf8(s, out);
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) append_utf8(out, cp);
  return out;
}

bool is_space(char32_t cp) {
  if (cp < 0x80) return ascii_space(static_cast<unsigned char>(cp));
  return in_ranges(kWhitespace, cp);
}
bool is_punctuation(char32_t cp) { return in_ranges(kRegexP, cp); }
bool is_symbol(char32_t cp) { return in_ranges(kRegexS, cp); }
bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(kRegexN, cp);
}
bool is_cased(char32_t cp) { return in_ranges(kCased, cp); }
bool is_case_ignorable(char32_t cp) { return in_ranges(kCaseIgnorable, cp); }

std::u32string to_lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char32_t cp = s[i];
    if (cp < 0x80) {
      out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    } else if (cp == 0x3A3) {
      out.push_back(lower_sigma(s, i));
    } else {
      bool multi = false;
      for (const LowerMulti& m : kLowerMulti) {
        if (m.cp == cp) {
          out.append(m.to, static_cast<std::size_t>(m.n));
          multi = true;
          break;
        }
      }
      if (!multi) out.push_back(lower_single(cp));
    }
  }
  return out;
}

std::string to_lower_utf8(std::string_view s) {
  bool ascii = true;
  for (unsigned char c : s) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
  }
  return encode_utf8(to_lower(decode_utf8(s)));
}

std::string_view rstrip(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t end = s.size();
  while (end > 0) {
    const unsigned char c = p[end - 1];
    if (c < 0x80) {
      if (!ascii_space(c)) break;
      --end;
      continue;
    }
    // Step back to the start of the last (possibly invalid) sequence.
    std::size_t start = end - 1;
    while (start > 0 && (p[start] & 0xC0) == 0x80 && end - start < 4) --start;
    char32_t cp;
    const int len = decode_one(p + start, end - start, cp);
    if (len == 0 || start + static_cast<std::size_t>(len) != end || !is_space(cp)) break;
    end = start;
  }
  return s.substr(0, end);
}

namespace {

// 1: ASCII whitespace; 2: a byte that may start a multi-byte whitespace character (U+0085, U+00A0,
// U+1680, U+2000..U+3000 start with C2, E1, E2 or E3); 0: neither (no other byte, continuation
// bytes included, can start whitespace, so words can be scanned byte by byte).
const std::array<std::uint8_t, 256> kSpaceClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = ascii_space(static_cast<unsigned char>(c)) ? 1 : 0;
  for (const int c : {0xC2, 0xE1, 0xE2, 0xE3}) t[static_cast<std::size_t>(c)] = 2;
  return t;
}();

}  // namespace

std::size_t multibyte_space_length(const unsigned char* p, std::size_t n) {
  char32_t cp;
  const int l = decode_one(p, n, cp);
  return l > 0 && is_space(cp) ? static_cast<std::size_t>(l) : 0;
}

void split_whitespace(std::string_view s, std::vector<std::string_view>& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // Skip whitespace.
    const std::uint8_t c = kSpaceClass[p[i]];
    if (c == 1) {
      ++i;
      continue;
    }
    std::size_t len;
    if (c == 2 && (len = multibyte_space_length(p + i, n - i)) != 0) {
      i += len;
      continue;
    }
    // A word, up to the next whitespace.
    const std::size_t start = i++;
    while (i < n) {
      const std::uint8_t d = kSpaceClass[p[i]];
      if (d == 1 || (d == 2 && multibyte_space_length(p + i, n - i) != 0)) break;
      ++i;
    }
    out.push_back(s.substr(start, i - start));
  }
}

std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> out;
  split_whitespace(s, out);
  return out;
}

std::size_t code_point_count(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace gnmt::unicode
