// sacreBLEU 2.6.0's BLEU tokenizers (13a, intl, char, none), reimplemented byte-for-byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gnmt {

enum class BleuTokenizer { k13a, kIntl, kChar, kNone };

// "13a", "intl", "char" or "none"; throws std::invalid_argument otherwise.
BleuTokenizer parse_bleu_tokenizer(const std::string& name);
const char* bleu_tokenizer_name(BleuTokenizer tok);

// Python str.replace(from, to): all non-overlapping occurrences, left to right.
void replace_all(std::string& s, std::string_view from, std::string_view to);

// sacreBLEU Tokenizer13a (mteval-v13a): drops "<skipped>", joins "-\n", unescapes
// &quot; &amp; &lt; &gt;, then TokenizerRegexp's four substitutions on " line " and whitespace
// normalisation. Output tokens are separated by single spaces.
std::string tokenize_13a(std::string_view line);

// The tokens of tokenize_13a(line) (appended to `out`), found without building that string when
// the line needs none of the replacements (no '\n', '&' or '<'): views into `line`, or else into
// `storage`. Either must outlive the views.
void tokenize_13a_tokens(std::string_view line, std::string& storage, std::vector<std::string_view>& out);

// Appends the tokens of a string whose tokens are separated by ' ' (the tokenizers' output).
void split_single_spaces(std::string_view s, std::vector<std::string_view>& out);

// sacreBLEU TokenizerV14International (mteval-v14 --international): splits \p{P} not between
// digits and every \p{S}, using the `regex` module's Unicode classes.
std::string tokenize_intl(std::string_view line);

// sacreBLEU TokenizerChar: " ".join(code points).
std::string tokenize_char(std::string_view line);

std::string tokenize(BleuTokenizer tok, std::string_view line);

}  // namespace gnmt
