// End to end through the gnmt binary, as a user runs it: a tiny model learns to reverse short sequences
// (train), translates a held-out set (translate) and is scored (score). Plus the CLI's error paths.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <regex>

#include "test_util.h"

namespace gnmt {
namespace {

using test::read_text;
using test::run_gnmt;
using test::TempDir;
using test::write_text;
using test::make_reversal_corpus;

TEST(Cli, LearnsToReverseSequencesToBleuAbove90) {
  TempDir d;
  make_reversal_corpus(d / "train.src", d / "train.tgt", 3000, 1);
  make_reversal_corpus(d / "valid.src", d / "valid.tgt", 100, 2);
  make_reversal_corpus(d / "test.src", d / "test.tgt", 200, 3);
  std::string set = " --set data.train_src=" + (d / "train.src") + " --set data.train_tgt=" + (d / "train.tgt") +
                    " --set data.valid_src=" + (d / "valid.src") + " --set data.valid_tgt=" + (d / "valid.tgt") +
                    " --set run_dir=" + (d / "run");
  // 2500 steps: the task is learnt suddenly, somewhere between steps 1000 and 2000 depending on float
  // rounding (which kernels change); 1500 left too little margin.
  auto train = run_gnmt("train --config " GNMT_SOURCE_DIR "/configs/tiny.yaml --set training.max_steps=2500" + set);
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find("validation step"), std::string::npos) << train.output;

  auto tr = run_gnmt("translate --checkpoint " + (d / "run/last.pt") + " --input " + (d / "test.src") +
                     " --output " + (d / "test.hyp") + " --beam 3");
  ASSERT_EQ(tr.exit_code, 0) << tr.output;
  auto sc = run_gnmt("score " + (d / "test.tgt") + " -i " + (d / "test.hyp") + " --score-only");
  ASSERT_EQ(sc.exit_code, 0) << sc.output;
  double bleu = std::stod(sc.output);
  EXPECT_GT(bleu, 90.0) << read_text(d / "test.hyp").substr(0, 400);

  // One output line per input line, empty lines kept in place.
  write_text(d / "mixed.src", "ka lo mi\n\nnu pe ri so\n   \nva\n");
  auto mixed = run_gnmt("translate -m " + (d / "run/last.pt") + " -i " + (d / "mixed.src") + " -o " + (d / "mixed.hyp"));
  ASSERT_EQ(mixed.exit_code, 0) << mixed.output;
  auto out = read_text(d / "mixed.hyp");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 5) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("^mi lo ka\n\n")));
  EXPECT_TRUE(std::regex_search(out, std::regex("\n\n[^\n]+\n\n[^\n]+\n$"))) << out;

  // --ema on a checkpoint trained without an EMA is refused in one line.
  auto no_ema = run_gnmt("translate -m " + (d / "run/last.pt") + " -i " + (d / "mixed.src") + " --ema");
  EXPECT_EQ(no_ema.exit_code, 2);
  EXPECT_NE(no_ema.output.find("holds no EMA weights"), std::string::npos) << no_ema.output;

  // Greedy through the same path.
  auto greedy = run_gnmt("translate -m " + (d / "run/last.pt") + " -i " + (d / "mixed.src") + " --beam 1");
  ASSERT_EQ(greedy.exit_code, 0);

  // A second `train` into the same run_dir without --resume must refuse and leave the run alone.
  auto before = read_text(d / "run/last.pt");
  auto again = run_gnmt("train --config " GNMT_SOURCE_DIR "/configs/tiny.yaml" + set);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.output.find("pass --resume"), std::string::npos) << again.output;
  EXPECT_EQ(read_text(d / "run/last.pt"), before);

  // --resume continues from the checkpoint's step.
  auto resumed = run_gnmt("train --config " GNMT_SOURCE_DIR "/configs/tiny.yaml" + set +
                          " --resume --set training.max_steps=1520");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("config changed: training.max_steps"), std::string::npos) << resumed.output;
}

// The "step N ... | loss X |" pairs of a training log.
std::map<int, std::string> losses(const std::string& log) {
  std::map<int, std::string> out;
  std::regex re("step ([0-9]+) epoch [0-9]+ batch [0-9/]+ \\| loss ([0-9.]+)");
  for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it) out[std::stoi((*it)[1])] = (*it)[2];
  return out;
}

TEST(Cli, ResumeContinuesExactlyAsAnUninterruptedRun) {
  TempDir d;
  make_reversal_corpus(d / "train.src", d / "train.tgt", 400, 4);
  std::string base = "train --config " GNMT_SOURCE_DIR "/configs/tiny.yaml --set data.train_src=" + (d / "train.src") +
                     " --set data.train_tgt=" + (d / "train.tgt") +
                     " --set model.dropout=0.3 --set training.log_every=1 --set training.save_every=10";
  auto full = run_gnmt(base + " --set run_dir=" + (d / "a") + " --set training.max_steps=30");
  ASSERT_EQ(full.exit_code, 0) << full.output;
  auto first = run_gnmt(base + " --set run_dir=" + (d / "b") + " --set training.max_steps=15");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto second = run_gnmt(base + " --set run_dir=" + (d / "b") + " --set training.max_steps=30 --resume");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  auto a = losses(full.output), b = losses(second.output);
  ASSERT_EQ(a.size(), 30u) << full.output;
  ASSERT_EQ(b.size(), 15u) << second.output;
  for (int step = 16; step <= 30; ++step) EXPECT_EQ(a[step], b[step]) << "step " << step;
  EXPECT_EQ(read_text(d / "a/ckpt-30.pt").size(), read_text(d / "b/ckpt-30.pt").size());
}

TEST(Cli, BadInputGetsOneLineAndExitCode2) {
  TempDir d;
  write_text(d / "bad.yaml", "model:\n  hiden_size: 3\n");
  auto r = run_gnmt("train --config " + (d / "bad.yaml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad.yaml:2:3: unknown key 'model.hiden_size' (did you mean 'hidden_size'?)"), std::string::npos)
      << r.output;

  auto typo = run_gnmt("tranlsate -m x.pt");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.output.find("gnmt: error: unknown command 'tranlsate' (did you mean 'translate'?)"), std::string::npos)
      << typo.output;

  auto near = run_gnmt("translate -m x.pt --bem 3");
  EXPECT_EQ(near.exit_code, 2);
  EXPECT_NE(near.output.find("gnmt: error: unknown option '--bem' for 'translate' (did you mean '--beam'?)"), std::string::npos)
      << near.output;
  auto far = run_gnmt("translate -m x.pt --zzzzzzzz 3");  // nothing near: CLI11's own line
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_NE(far.output.find("The following arguments were not expected"), std::string::npos) << far.output;

  auto missing = run_gnmt("translate --checkpoint " + (d / "nope.pt"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("nope.pt: no such file"), std::string::npos) << missing.output;

  write_text(d / "junk.pt", "this is not a checkpoint");
  write_text(d / "in.txt", "hello\n");
  auto junk = run_gnmt("translate -m " + (d / "junk.pt") + " -i " + (d / "in.txt"));
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.output.find("junk.pt: not a readable gnmt checkpoint"), std::string::npos) << junk.output;

  auto same = run_gnmt("translate -m " + (d / "junk.pt") + " -i " + (d / "in.txt") + " -o " + (d / "in.txt"));
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_EQ(read_text(d / "in.txt"), "hello\n");

  auto flag = run_gnmt("train --config x.yaml --no-such-flag");
  EXPECT_NE(flag.exit_code, 0);
  EXPECT_NE(flag.output.find("--no-such-flag"), std::string::npos) << flag.output;

  write_text(d / "a.src", "a\nb\nc\n");
  write_text(d / "a.tgt", "a\nb\n");
  auto mism = run_gnmt("train --config " GNMT_SOURCE_DIR "/configs/tiny.yaml --set data.train_src=" + (d / "a.src") +
                       " --set data.train_tgt=" + (d / "a.tgt") + " --set run_dir=" + (d / "run"));
  EXPECT_EQ(mism.exit_code, 2);
  EXPECT_NE(mism.output.find("has 3 lines"), std::string::npos) << mism.output;
}

TEST(Cli, HelpExplainsEveryCommand) {
  auto top = run_gnmt("--help");
  EXPECT_EQ(top.exit_code, 0);
  for (const char* cmd : {"train", "translate", "score", "info"}) {
    EXPECT_NE(top.output.find(cmd), std::string::npos) << cmd;
    auto h = run_gnmt(std::string(cmd) + " --help");
    EXPECT_EQ(h.exit_code, 0) << cmd;
  }
  auto tr = run_gnmt("translate --help").output;
  for (const char* opt : {"--beam", "--alpha", "--beta", "--max-len-ratio", "--batch-size", "--input", "--output"})
    EXPECT_NE(tr.find(opt), std::string::npos) << opt;
}

}  // namespace
}  // namespace gnmt
