// build/gnmt is a torch-free front that scores in-process and execs build/gnmt-torch for every
// other command line: both must answer alike, and scoring must never load LibTorch.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_util.h"

namespace gnmt {
namespace {

using test::RunResult;
using test::TempDir;
using test::write_text;

// Runs `binary args` through the shell (stdout+stderr), with every occurrence of the binary's path in
// the output (CLI11's usage lines print argv[0]) replaced by "gnmt".
RunResult run_binary(const std::string& binary, const std::string& args, const std::string& env = "") {
  RunResult r = test::run_command(env + " " + binary + " " + args);
  for (std::size_t p; (p = r.output.find(binary)) != std::string::npos;) r.output.replace(p, binary.size(), "gnmt");
  return r;
}

TEST(Launcher, FrontAnswersEveryCommandLineAsTheFullBinary) {
  TempDir d;
  write_text(d / "ref.txt", "the cat sat on the mat\na b c d\n");
  write_text(d / "hyp.txt", "the cat sat on a mat\na b c d\n");
  const std::string score = "score " + (d / "ref.txt") + " -i " + (d / "hyp.txt");
  for (const std::string& args : std::initializer_list<std::string>{"", "--help", "--version", "train --help", "translate", "no-such-command",
                                 "score --help", "score", score + " -m bleu chrf -f text", score + " -tok intl -b",
                                 score + " -m nope", "score " + (d / "missing.txt") + " -i " + (d / "hyp.txt"),
                                 "info " + (d / "ref.txt")}) {
    const RunResult front = run_binary(GNMT_BINARY, args);
    const RunResult full = run_binary(GNMT_TORCH_BINARY, args);
    EXPECT_EQ(front.exit_code, full.exit_code) << args;
    EXPECT_EQ(front.output, full.output) << args;
  }
  // Standard input reaches the scorer (in-process) and the full binary (through execv) alike.
  const RunResult piped = run_binary("cat " + (d / "hyp.txt") + " | " + GNMT_BINARY, "score -b " + (d / "ref.txt"));
  EXPECT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_EQ(piped.output, "68.9\n");  // (9/10 * 6/8 * 4/6 * 2/4)^(1/4) * 100, brevity penalty 1
}

TEST(Launcher, ScoringNeverLoadsLibTorch) {
  TempDir d;
  write_text(d / "ref.txt", "a b c d e\n");
  // The dynamic loader lists every library it loads: none of LibTorch's for score, all for the rest.
  const RunResult sc = run_binary(GNMT_BINARY, "score -b " + (d / "ref.txt") + " -i " + (d / "ref.txt"), "LD_DEBUG=libs");
  EXPECT_EQ(sc.exit_code, 0) << sc.output;
  EXPECT_NE(sc.output.find("100.0\n"), std::string::npos) << sc.output;
  EXPECT_NE(sc.output.find("libstdc++"), std::string::npos) << sc.output;
  EXPECT_EQ(sc.output.find("libtorch"), std::string::npos) << sc.output;
  const RunResult info = run_binary(GNMT_BINARY, "info --help", "LD_DEBUG=libs");
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_NE(info.output.find("libtorch"), std::string::npos);

  // Alone in a directory the front still scores, and says in one line what is missing for the rest.
  const std::string alone = d / "gnmt";
  std::filesystem::copy_file(GNMT_BINARY, alone);
  const RunResult sc2 = run_binary(alone, "score -b " + (d / "ref.txt") + " -i " + (d / "ref.txt"));
  EXPECT_EQ(sc2.exit_code, 0);
  EXPECT_EQ(sc2.output, "100.0\n");
  const RunResult tr = test::run_command(alone + " translate --help");
  EXPECT_EQ(tr.exit_code, 1);
  EXPECT_EQ(tr.output, "gnmt: error: cannot run " + (d / "gnmt-torch") +
                           " (No such file or directory); it holds every command but score and must be installed "
                           "next to gnmt\n");
}

}  // namespace
}  // namespace gnmt
