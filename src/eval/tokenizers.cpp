#include "eval/tokenizers.h"

#include <stdexcept>
#include <vector>

#include "eval/unicode.h"

namespace gnmt {
namespace {

// ' '.join(s.split()) (Python whitespace).
inline bool ascii_space(unsigned char c) { return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20); }

std::string normalize_spaces(std::string_view s) {
  bool ascii = true;
  for (const char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {  // fast path: Python's whitespace below U+0080 is ascii_space
    std::string out;
    out.reserve(s.size());
    bool pending = false;
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (ascii_space(c)) {
        pending = !out.empty();
      } else {
        if (pending) {
          out.push_back(' ');
          pending = false;
        }
        out.push_back(ch);
      }
    }
    return out;
  }
  thread_local std::vector<std::string_view> toks;
  toks.clear();
  unicode::split_whitespace(s, toks);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < toks.size(); ++i) {
    if (i) out.push_back(' ');
    out.append(toks[i]);
  }
  return out;
}

// [\{-\~\[-\` -\&\(-\+\:-\@\/] : ASCII punctuation except ' , - . (and space itself).
inline bool re13a_class1(unsigned char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}
inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool is_dot_comma(unsigned char c) { return c == '.' || c == ','; }

// re.sub of a two-character pattern (c1)(c2): scans left to right, a match consumes both
// characters and scanning resumes after them. Working on UTF-8 bytes is exact here: the
// classes are ASCII or negated-ASCII, and continuation bytes are never '.', ',' or digits.
template <class Pred, class Emit>
void sub_pairs_into(const std::string& s, std::string& out, Pred match, Emit emit) {
  out.clear();
  out.reserve(s.size() + s.size() / 4 + 8);
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    if (i + 1 < n && match(static_cast<unsigned char>(s[i]), static_cast<unsigned char>(s[i + 1]))) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
}

template <class Pred, class Emit>
std::u32string sub_pairs32(const std::u32string& s, Pred match, Emit emit) {
  std::u32string out;
  out.reserve(s.size() + s.size() / 4 + 8);
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    if (i + 1 < n && match(s[i], s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

}  // namespace

BleuTokenizer parse_bleu_tokenizer(const std::string& name) {
  if (name == "13a") return BleuTokenizer::k13a;
  if (name == "intl") return BleuTokenizer::kIntl;
  if (name == "char") return BleuTokenizer::kChar;
  if (name == "none") return BleuTokenizer::kNone;
  throw std::invalid_argument("unknown BLEU tokenizer '" + name + "' (expected 13a, intl, char or none)");
}

const char* bleu_tokenizer_name(BleuTokenizer tok) {
  switch (tok) {
    case BleuTokenizer::k13a: return "13a";
    case BleuTokenizer::kIntl: return "intl";
    case BleuTokenizer::kChar: return "char";
    case BleuTokenizer::kNone: return "none";
  }
  return "?";
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::size_t pos = s.find(from);
  if (pos == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  std::size_t last = 0;
  while (pos != std::string::npos) {
    out.append(s, last, pos - last);
    out.append(to);
    last = pos + from.size();
    pos = s.find(from, last);
  }
  out.append(s, last, std::string::npos);
  s.swap(out);
}

std::string tokenize_13a(std::string_view line) {
  thread_local std::string s;
  s.assign(line.data(), line.size());
  replace_all(s, "<skipped>", "");
  replace_all(s, "-\n", "");
  replace_all(s, "\n", " ");
  if (s.find('&') != std::string::npos) {
    replace_all(s, "&quot;", "\"");
    replace_all(s, "&amp;", "&");
    replace_all(s, "&lt;", "<");
    replace_all(s, "&gt;", ">");
  }
  // f' {line} ' then r'([\{-\~\[-\` -\&\(-\+\:-\@\/])' -> r' \1 '
  thread_local std::string t;
  t.clear();
  t.reserve(s.size() * 2 + 8);
  auto put1 = [](char c) {
    if (re13a_class1(static_cast<unsigned char>(c))) {
      t.push_back(' ');
      t.push_back(c);
      t.push_back(' ');
    } else {
      t.push_back(c);
    }
  };
  put1(' ');
  for (char c : s) put1(c);
  put1(' ');
  // r'([^0-9])([\.,])' -> r'\1 \2 '
  thread_local std::string u;
  sub_pairs_into(
      t, u, [](unsigned char a, unsigned char b) { return !is_digit(a) && is_dot_comma(b); },
      [](std::string& o, char a, char b) {
        o.push_back(a);
        o.push_back(' ');
        o.push_back(b);
        o.push_back(' ');
      });
  // r'([\.,])([^0-9])' -> r' \1 \2'
  sub_pairs_into(
      u, t, [](unsigned char a, unsigned char b) { return is_dot_comma(a) && !is_digit(b); },
      [](std::string& o, char a, char b) {
        o.push_back(' ');
        o.push_back(a);
        o.push_back(' ');
        o.push_back(b);
      });
  // r'([0-9])(-)' -> r'\1 \2 '
  sub_pairs_into(
      t, u, [](unsigned char a, unsigned char b) { return is_digit(a) && b == '-'; },
      [](std::string& o, char a, char b) {
        o.push_back(a);
        o.push_back(' ');
        o.push_back(b);
        o.push_back(' ');
      });
  return normalize_spaces(u);
}

std::string tokenize_intl(std::string_view line) {
  std::u32string s = unicode::decode_utf8(line);
  // r'(\P{N})(\p{P})' -> r'\1 \2 '
  s = sub_pairs32(
      s, [](char32_t a, char32_t b) { return !unicode::is_number(a) && unicode::is_punctuation(b); },
      [](std::u32string& o, char32_t a, char32_t b) {
        o.push_back(a);
        o.push_back(U' ');
        o.push_back(b);
        o.push_back(U' ');
      });
  // r'(\p{P})(\P{N})' -> r' \1 \2'
  s = sub_pairs32(
      s, [](char32_t a, char32_t b) { return unicode::is_punctuation(a) && !unicode::is_number(b); },
      [](std::u32string& o, char32_t a, char32_t b) {
        o.push_back(U' ');
        o.push_back(a);
        o.push_back(U' ');
        o.push_back(b);
      });
  // r'(\p{S})' -> r' \1 '
  std::u32string t;
  t.reserve(s.size() + 16);
  for (char32_t c : s) {
    if (unicode::is_symbol(c)) {
      t.push_back(U' ');
      t.push_back(c);
      t.push_back(U' ');
    } else {
      t.push_back(c);
    }
  }
  return normalize_spaces(unicode::encode_utf8(t));
}

std::string tokenize_char(std::string_view line) {
  const std::u32string s = unicode::decode_utf8(line);
  std::string out;
  out.reserve(line.size() * 2);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out.push_back(' ');
    unicode::append_utf8(out, s[i]);
  }
  return out;
}

std::string tokenize(BleuTokenizer tok, std::string_view line) {
  switch (tok) {
    case BleuTokenizer::k13a: return tokenize_13a(line);
    case BleuTokenizer::kIntl: return tokenize_intl(line);
    case BleuTokenizer::kChar: return tokenize_char(line);
    case BleuTokenizer::kNone: return std::string(line);
  }
  return std::string(line);
}

}  // namespace gnmt
