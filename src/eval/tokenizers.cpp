#include "eval/tokenizers.h"

#include <array>
#include <cstdint>
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

void split_single_spaces(std::string_view s, std::vector<std::string_view>& out) {
  std::size_t start = 0;
  while (start < s.size()) {
    const std::size_t sp = s.find(' ', start);
    if (sp == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    if (sp > start) out.push_back(s.substr(start, sp - start));
    start = sp + 1;
  }
}

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

namespace {

// Tokenizer13a's TokenizerRegexp part, before the whitespace normalisation: f' {s} ', then four
// regex substitutions. They only ever insert spaces. Returns a thread-local buffer.
const std::string& regex_13a(std::string_view s) {
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
  return u;
}

// Byte classes for tokenize_13a_tokens.
enum : std::uint8_t {
  kPlain = 0,
  kClass1 = 1,        // the first substitution's class: a token of its own
  kDotCommaDash = 2,  // takes part in the other substitutions
  kSpace = 4,         // ASCII whitespace (Python's)
  kMaybeSpace = 8,    // lead byte of a multi-byte Python whitespace character
  kReplaced = 16,     // '\n', '&', '<': a replacement before the regexes may apply
};

const std::array<std::uint8_t, 256> kByteClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const auto u = static_cast<unsigned char>(c);
    std::uint8_t k = kPlain;
    if (ascii_space(u)) k |= kSpace;
    if (u < 0x80 && re13a_class1(u) && u != ' ') k |= kClass1;
    if (u == '.' || u == ',' || u == '-') k |= kDotCommaDash;
    if (u == 0xC2 || u == 0xE1 || u == 0xE2 || u == 0xE3) k |= kMaybeSpace;
    if (u == '\n' || u == '&' || u == '<') k |= kReplaced;
    t[static_cast<std::size_t>(c)] = k;
  }
  return t;
}();

// Appends the 13a tokens of one whitespace-free word. Tokens never span whitespace, and a
// whitespace character never takes part in a substitution in a way that affects its neighbours
// (it is a non-digit outside every class), so each word can be tokenized on its own as f' {word} '.
void word_tokens_13a(std::string_view word, std::uint8_t classes, std::vector<std::string_view>& out) {
  if (classes == kPlain) {
    out.push_back(word);
  } else if (classes == kClass1) {  // only the first substitution applies: class-1 bytes stand alone
    std::size_t start = 0;
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (kByteClass[static_cast<unsigned char>(word[i])] & kClass1) {
        if (i > start) out.push_back(word.substr(start, i - start));
        out.push_back(word.substr(i, 1));
        start = i + 1;
      }
    }
    if (start < word.size()) out.push_back(word.substr(start));
  } else {  // run the substitutions; every non-space byte of their output is the next byte of `word`
    const std::string& t = regex_13a(word);
    std::size_t pos = 0, start = std::string::npos;
    for (const char c : t) {
      if (c == ' ') {
        if (start != std::string::npos) out.push_back(word.substr(start, pos - start));
        start = std::string::npos;
      } else {
        if (start == std::string::npos) start = pos;
        ++pos;
      }
    }
    if (start != std::string::npos) out.push_back(word.substr(start, pos - start));
  }
}

}  // namespace

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
  return normalize_spaces(regex_13a(s));
}

void tokenize_13a_tokens(std::string_view line, std::string& storage, std::vector<std::string_view>& out) {
  const std::size_t first = out.size();
  auto general_path = [&] {  // "<skipped>", "-\n", "\n" or an entity may be replaced: the string pipeline
    out.resize(first);
    storage = tokenize_13a(line);
    split_single_spaces(storage, out);
  };
  const auto* p = reinterpret_cast<const unsigned char*>(line.data());
  const std::size_t n = line.size();
  std::size_t i = 0;
  while (i < n) {
    // Skip whitespace.
    std::uint8_t k = kByteClass[p[i]];
    if (k & kSpace) {
      if (k & kReplaced) return general_path();  // '\n'
      ++i;
      continue;
    }
    std::size_t len = 0;
    if ((k & kMaybeSpace) && (len = unicode::multibyte_space_length(p + i, n - i)) != 0) {
      i += len;
      continue;
    }
    // One word: up to the next whitespace.
    const std::size_t start = i;
    std::uint8_t classes = 0;
    while (i < n) {
      k = kByteClass[p[i]];
      if ((k & kSpace) || ((k & kMaybeSpace) && unicode::multibyte_space_length(p + i, n - i) != 0)) break;
      classes |= k;
      ++i;
    }
    if (classes & kReplaced) return general_path();
    word_tokens_13a(line.substr(start, i - start), classes & (kClass1 | kDotCommaDash), out);
  }
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
