#pragma once
// File helpers: atomic writes (temporary file in the same directory, fsync, rename) so that an
// interrupted or failed write never leaves a half-written file where a good one was.
#include <functional>
#include <string>

namespace gnmt {

// Calls write(tmp_path) and then renames tmp_path over `path`. On any failure the temporary file is
// removed, `path` is left as it was, and gnmt::Error names the file and the reason.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

// Writes `content` to `path` atomically.
void write_file_atomically(const std::string& path, const std::string& content);

// Reads a whole file; gnmt::Error naming the file if it is missing, a directory or unreadable.
std::string read_file(const std::string& path);

// Throws gnmt::Error unless `path` names a readable regular file. `what` describes it ("config file").
void require_readable_file(const std::string& path, const std::string& what);

}  // namespace gnmt
