// Small UTF-8 / Unicode helpers with exactly the semantics sacreBLEU gets from Python:
// str.isspace()/str.split()/str.rstrip(), str.lower() (full mapping + Final_Sigma), and the
// `regex` module's \p{P}, \p{S}, \p{N}. Tables: unicode_tables.inc (scripts/gen_unicode_tables.py).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gnmt::unicode {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Byte offset of the first byte that does not start a valid UTF-8 sequence (strict, like
// Python's utf-8 codec: no overlongs, no surrogates, nothing above U+10FFFF), or npos.
std::size_t find_invalid_utf8(std::string_view s);

// Decodes UTF-8; each byte of an invalid sequence becomes U+FFFD (input is normally validated
// by text_io already). Appends to `out`.
void decode_utf8(std::string_view s, std::u32string& out);
std::u32string decode_utf8(std::string_view s);

void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(std::u32string_view s);

bool is_space(char32_t cp);        // Python str.isspace()
bool is_punctuation(char32_t cp);  // regex \p{P}
bool is_symbol(char32_t cp);       // regex \p{S}
bool is_number(char32_t cp);       // regex \p{N}
bool is_cased(char32_t cp);        // Unicode Cased (as str.lower's Final_Sigma rule uses it)
bool is_case_ignorable(char32_t cp);

// Python str.lower(), including U+03A3's Final_Sigma context rule.
std::u32string to_lower(std::u32string_view s);
std::string to_lower_utf8(std::string_view s);

// Python str.rstrip() with no argument (Unicode whitespace).
std::string_view rstrip(std::string_view s);

// Python str.split() with no argument: appends the non-empty whitespace-separated pieces.
void split_whitespace(std::string_view s, std::vector<std::string_view>& out);
std::vector<std::string_view> split_whitespace(std::string_view s);

// Byte length of the UTF-8 character at p (n bytes available) if it is whitespace, otherwise 0.
// Meant for non-ASCII bytes (ASCII whitespace is one byte, as is_space says).
std::size_t multibyte_space_length(const unsigned char* p, std::size_t n);

// Number of code points (the string is assumed to be valid UTF-8).
std::size_t code_point_count(std::string_view s);

}  // namespace gnmt::unicode
