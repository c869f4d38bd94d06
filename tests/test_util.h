#pragma once
// Helpers shared by the tests: temporary directories, running the gnmt binary, small files.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace gnmt::test {

// A fresh directory under the system temp dir, removed when the object goes away.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gnmt_test_XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path, ec); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Sentences of 3..7 words from a 12-word vocabulary; the target is the source reversed (the toy task).
inline void make_reversal_corpus(const std::string& src, const std::string& tgt, int n, unsigned seed) {
  static const char* words[] = {"ka", "lo", "mi", "nu", "pe", "ri", "so", "tu", "va", "xe", "yo", "zu"};
  std::mt19937 rng(seed);
  std::string s, t;
  for (int i = 0; i < n; ++i) {
    int len = 3 + static_cast<int>(rng() % 5);
    std::vector<std::string> w;
    for (int k = 0; k < len; ++k) w.push_back(words[rng() % 12]);
    for (int k = 0; k < len; ++k) s += w[k] + (k + 1 < len ? " " : "\n");
    for (int k = len - 1; k >= 0; --k) t += w[k] + (k > 0 ? " " : "\n");
  }
  write_text(src, s);
  write_text(tgt, t);
}

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing stdout+stderr.
inline RunResult run_command(const std::string& command) {
  std::string cmd = command + " 2>&1";
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs the gnmt binary with `args` (a shell-quoted string), capturing stdout+stderr.
inline RunResult run_gnmt(const std::string& args) { return run_command(std::string(GNMT_BINARY) + " " + args); }

}  // namespace gnmt::test
