// Reading UTF-8 text files as lines, with validation.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace gnmt {

// Reads a UTF-8 text file as lines: lines end at '\n' only; one trailing '\r' per line is
// dropped (Windows endings), as is a UTF-8 BOM at the start of the file; a missing final newline
// is fine ("a\nb" and "a\nb\n" are both two lines; an empty file has none).
// Throws gnmt::Error (a std::runtime_error) "FILE: cannot open (REASON)" or, for bytes that are not strict UTF-8
// (overlongs, surrogates and code points above U+10FFFF included),
// "FILE:LINE: invalid UTF-8 (byte 0xXX at column COL)" with 1-based LINE and byte column COL.
std::vector<std::string> read_text_lines(const std::string& path);

// The same for an open stream; `name` is used in error messages (e.g. "<stdin>").
std::vector<std::string> read_text_lines(std::istream& in, const std::string& name);

// The same for text already in memory.
std::vector<std::string> split_text_lines(std::string_view data, const std::string& name);

}  // namespace gnmt
