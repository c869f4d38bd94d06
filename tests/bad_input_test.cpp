// The catalogue of bad inputs and hostile conditions (issue 7). Every case runs the gnmt binary as a user
// would (or, where marked "in process", calls the unit) and asserts the exit code, the message - one line,
// the last of the output, "gnmt: error: ..." - and that the files that were there before are unchanged.
//
// | test (BadInput.*)                     | input or condition                               | documented behaviour                                                  |
// |---------------------------------------|--------------------------------------------------|-----------------------------------------------------------------------|
// | ConfigYamlSyntaxError                 | unclosed [ in the YAML                           | exit 2, "FILE:LINE:COL: YAML syntax error: ..."                       |
// | ConfigUnknownKeySuggestsNearest       | training.warmup_step                             | exit 2, "FILE:2:3: unknown key ... (did you mean 'warmup_steps'?)"    |
// | ConfigNonScalarKey (fuzz find)        | a list or a mapping used as a key                | exit 2, "FILE:L:C: a key must be a plain name ..." (was: bad_conversion)|
// | ConfigWrongType                       | max_steps: ten                                   | exit 2, "FILE:2:14: key 'training.max_steps' expects an integer, ..." |
// | ConfigNegativeLayers                  | enc_layers: -2                                   | exit 2, "FILE:3:15: config key 'model.enc_layers': must be at least 2"|
// | ConfigDropoutAtLeastOne               | dropout: 1.0                                     | exit 2, "FILE:2:12: config key 'model.dropout': must be in [0, 1)"    |
// | ConfigResidualStartBelowOne           | residual_start: 0                                | exit 2, "FILE:2:19: config key 'model.residual_start': ..."           |
// | ConfigBeamZero                        | --set decoding.beam=0; translate --beam 0        | exit 2, "--set decoding.beam=0: config key 'decoding.beam': ..."      |
// | ConfigSetWithoutValue                 | --set training.lr                                | exit 2, "--set training.lr: expected section.key=value ..."          |
// | ConfigFileMissing                     | --config that does not exist                     | exit 2, "config file FILE: no such file"                              |
// | ConfigMissingCorpusFile               | data.train_src does not exist                    | exit 2, "data.train_src FILE: no such file"; run_dir not created      |
// | ConfigConflictingOptions              | train_src without train_tgt; tie_output, emb!=hid| exit 2, "config key 'data.train_tgt': ... given together"             |
// | ConfigEmptyFile                       | a config file of only a comment                  | exit 2, "FILE: config is empty; ..."                                  |
// | CorpusLineCountMismatch               | 4 source lines, 3 target lines                   | exit 2, "... has 4 lines, ... has 3 (line 4 has no partner)"          |
// | TokenizerLeftByAFailedRunIsNotReused  | run_dir holds spm.model of a failed earlier run  | exit 0, a new run trains its own SentencePiece model                  |
// | CorpusEmptyLinesSkippedAndCounted     | training pairs with an empty side                | exit 0, skipped, "(3 with an empty side, ...)" in the log             |
// | TranslateEmptyLinesPassThrough        | empty and blank lines to translate               | exit 0, one empty output line for each, in place                      |
// | CorpusInvalidUtf8                     | byte 0xFF in a training file                     | exit 2, "FILE:2: invalid UTF-8 (byte 0xFF at column 4)", before work  |
// | TranslateInvalidUtf8                  | byte 0xC3 0x28 in the input                      | exit 2, "FILE:3: invalid UTF-8 ..."; the output file is untouched     |
// | CorpusCrlfAndBomHandled (in process)  | Windows line endings and a BOM                   | the same tokenizer and the same ids as the LF file without BOM       |
// | TranslateCrlfInputHandled             | CRLF + BOM input                                 | exit 0, the same output as for the LF input, no '\r'                  |
// | CorpusOverlongLineFiltered            | a pair longer than data.max_len                  | exit 0, skipped, "(1 longer than max_len 20)" in the log              |
// | TranslateOverlongLineInPieces         | a line of > data.max_len subwords                | exit 0, cut in near-equal pieces <= max_len, translations joined by ' '|
// | CorpusWithoutFinalNewline             | the last source line has no '\n'                 | exit 0, same line count as the target file, nothing lost             |
// | CorpusEmpty                           | empty training files; empty translation input    | exit 2 "... no text" / "no usable sentence pairs"; empty output, exit 0|
// | CorpusDirectoryForFile                | a directory as corpus / input / output           | exit 2, "FILE: is a directory, expected a file" (and the like)       |
// | CorpusUnreadableFile                  | mode 000 (as root: run as nobody, see the test)  | exit 2, "FILE: cannot open (Permission denied)" (translate), ... (train) |
// | TokenizerDoesNotMatchCheckpoint       | --resume with another SentencePiece model        | exit 2, "... trained with another SentencePiece model ..."           |
// | TokenizerFileIsNotSentencePiece       | data.spm_model is a text file                    | exit 2, "FILE: not a valid SentencePiece model: ..."                 |
// | CheckpointTruncated                   | the last 1000 bytes cut off                      | exit 2, "... no checksum trailer at its end (truncated, ...)"        |
// | CheckpointCorrupted                   | one byte flipped in the middle                   | exit 2, "... checksum mismatch: stored CRC-32 ..."                    |
// | CheckpointOtherModelShape             | --resume with another hidden size                | exit 2, "--resume: ... holds a different model: model.hidden_size..." |
// | CheckpointMissing                     | a path that does not exist                       | exit 2, "checkpoint FILE: no such file"                               |
// | CliUnknownFlag                        | --no-such-flag                                   | exit 2, "... --no-such-flag ... (see gnmt --help ...)"               |
// | CliMissingValue                       | translate -m (no value)                          | exit 2, "--checkpoint: 1 required TEXT missing (see gnmt --help ...)" |
// | CliContradictoryFlags                 | train --dump-config --resume                     | exit 2, "--resume excludes --dump-config"                             |
// | CliOutputIsInput                      | translate -o naming the input (another spelling) | exit 2, "--output FILE is the input file; ..."; the input untouched   |
// | NonFiniteLossSkippedThenStops         | lr 1e30: the loss turns NaN/inf                  | each step skipped (no update) and counted; exit 2 after max_bad_steps |
// | GradientExplosionSkipsUpdate (in proc)| finite loss, infinite gradient                   | no update, weights unchanged, counted; Error after max_bad_steps      |
// | DiskFullWritingTranslation            | file size limit (ulimit -f; SIGXFSZ ignored)     | exit 2, "cannot write FILE: File too large ..."; old output intact    |
// | DiskFullWritingCheckpoint             | file size limit (ulimit -f; SIGXFSZ ignored)     | exit 1, "saving the checkpoint of step N failed ... last.pt intact"   |
// | RunDirWithoutWritePermission          | run_dir mode 555 (as root: run as nobody)        | exit 2, "run_dir DIR: cannot create or write to it"                   |
// | OutOfMemoryBatch                      | address space limit (ulimit -v) and a huge batch | exit 1, "out of memory with training.batch_tokens=N (...)"           |
//
// Elsewhere: ENOSPC on a real tmpfs and a file system turning read-only mid-run (checkpoint_test.cpp,
// CheckpointTraining.DiskFullWhileSavingStopsAndKeepsThePreviousCheckpoint), SIGKILL/SIGTERM while saving
// (CheckpointResume.*), another checkpoint format version (CheckpointFiles.AnotherFormatVersionIsRefused).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <regex>

#include "common/error.h"
#include "data/corpus.h"
#include "data/tokenizer.h"
#include "models/model.h"
#include "test_util.h"
#include "training/checkpoint.h"
#include "training/numerics.h"
#include "training/optimizer.h"
#include "translator/translator.h"

namespace gnmt {
namespace {
namespace fs = std::filesystem;
using test::make_reversal_corpus;
using test::read_text;
using test::run_gnmt;
using test::RunResult;
using test::TempDir;
using test::write_text;

const std::string kTiny = GNMT_SOURCE_DIR "/configs/tiny.yaml";

// Every regular file below `dir` with its content, by relative path.
std::map<std::string, std::string> files_in(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = read_text(e.path().string());
  return out;
}

std::string last_line(const std::string& out) {
  std::string s = out;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') == std::string::npos ? 0 : s.rfind('\n') + 1);
}

// The documented failure: the exit code, and `message` inside the one line "gnmt: error: ..." that ends the output.
void expect_failure(const RunResult& r, int code, const std::string& message) {
  EXPECT_EQ(r.exit_code, code) << r.output;
  const std::string last = last_line(r.output);
  EXPECT_EQ(last.rfind("gnmt: error: ", 0), 0u) << r.output;
  EXPECT_NE(last.find(message), std::string::npos) << "expected: " << message << "\noutput:\n" << r.output;
}

// As a user without root rights: chmod-based cases cannot fail for root. setpriv (util-linux) drops to nobody.
std::string as_unprivileged() { return geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : ""; }

class BadInput : public ::testing::Test {
 protected:
  TempDir d;
  std::map<std::string, std::string> before;  // files_in(d) before the command under test
  void snapshot() { before = files_in(d.path); }
  void expect_unchanged() { EXPECT_EQ(files_in(d.path), before) << "files in the test directory changed"; }

  // `gnmt train` on tiny.yaml with d/train.{src,tgt} (written by make_reversal_corpus unless present) into d/run.
  RunResult train(const std::string& extra, const std::string& prefix = "") {
    if (!fs::exists(d / "train.src")) make_reversal_corpus(d / "train.src", d / "train.tgt", 200, 31);
    return run_gnmt("train --config " + kTiny + " --set data.train_src=" + (d / "train.src") +
                    " --set data.train_tgt=" + (d / "train.tgt") + " --set run_dir=" + (d / "run") +
                    " --set training.max_steps=2 --set training.log_every=1 " + extra, prefix);
  }
  // Trains (exit 0) on 100 generated pairs plus `src_tail`/`tgt_tail` and finds `log` in the output.
  void expect_trains_and_logs(const std::string& src_tail, const std::string& tgt_tail, const std::string& extra,
                              const std::string& log) {
    make_reversal_corpus(d / "train.src", d / "train.tgt", 100, 32);
    write_text(d / "train.src", read_text(d / "train.src") + src_tail);
    write_text(d / "train.tgt", read_text(d / "train.tgt") + tgt_tail);
    auto r = train(extra);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(log), std::string::npos) << "expected: " << log << "\noutput:\n" << r.output;
  }
  std::string write_config(const std::string& yaml) {
    write_text(d / "bad.yaml", yaml);
    return d / "bad.yaml";
  }
  // `gnmt train --config` on `yaml` fails with exit code 2 and "<config path><message>", touching no file.
  void expect_config_refused(const std::string& yaml, const std::string& message) {
    auto cfg = write_config(yaml);
    snapshot();
    expect_failure(run_gnmt("train --config " + cfg), 2, cfg + message);
    expect_unchanged();
  }

  // The run most cases translate with or resume: tiny.yaml, 30 steps, data.max_len 20. Trained once per build
  // of gnmt into <build>/test_cache/bad_input/run and shared by the test processes under a file lock.
  static std::string shared_run() {
    static const std::string run = [] {
      const fs::path dir = fs::path(GNMT_BINARY).parent_path() / "test_cache" / "bad_input";
      fs::create_directories(dir);
      const int fd = ::open((dir / "lock").c_str(), O_CREAT | O_RDWR, 0644);
      ::flock(fd, LOCK_EX);
      const std::string stamp = std::to_string(fs::last_write_time(GNMT_BINARY).time_since_epoch().count());
      if (read_text((dir / "stamp").string()) != stamp) {
        fs::remove_all(dir / "run");
        make_reversal_corpus((dir / "train.src").string(), (dir / "train.tgt").string(), 300, 21);
        auto r = run_gnmt("train --config " + kTiny + " --set data.train_src=" + (dir / "train.src").string() +
                          " --set data.train_tgt=" + (dir / "train.tgt").string() + " --set run_dir=" +
                          (dir / "run").string() + " --set training.max_steps=30 --set data.max_len=20");
        if (r.exit_code == 0) write_text((dir / "stamp").string(), stamp);
        else ADD_FAILURE() << r.output;
      }
      ::flock(fd, LOCK_UN);
      ::close(fd);
      return (dir / "run").string();
    }();
    return run;
  }
  static std::string shared_checkpoint() { return shared_run() + "/last.pt"; }
  // A copy of the shared run in d/run (for --resume cases, which write into their run_dir).
  void copy_shared_run() {
    fs::create_directories(d / "run");
    for (const char* f : {"last.pt", "spm.model", "config.yaml"}) fs::copy_file(shared_run() + "/" + f, d / "run/" + f);
    fs::copy_file(fs::path(shared_run()).parent_path() / "train.src", d / "train.src");
    fs::copy_file(fs::path(shared_run()).parent_path() / "train.tgt", d / "train.tgt");
  }
  RunResult translate(const std::string& args, const std::string& prefix = "") {
    return run_gnmt("translate -m " + shared_checkpoint() + " " + args, prefix);
  }
};

// ---- configs ----

TEST_F(BadInput, ConfigYamlSyntaxError) {
  auto cfg = write_config("model:\n  hidden_size: [1, 2\ntraining:\n  lr: 1\n");
  snapshot();
  auto r = run_gnmt("train --config " + cfg);
  expect_failure(r, 2, "YAML syntax error");
  EXPECT_TRUE(std::regex_search(last_line(r.output), std::regex("bad\\.yaml:[0-9]+:[0-9]+: YAML syntax error: "))) << r.output;
  expect_unchanged();
}

TEST_F(BadInput, ConfigUnknownKeySuggestsNearest) {
  expect_config_refused("training:\n  warmup_step: 10\n",
                        ":2:3: unknown key 'training.warmup_step' (did you mean 'warmup_steps'?)");
}

// Found by tests/fuzz/config_fuzz.cpp: a key that is a list or a mapping escaped as yaml-cpp's bad_conversion
// (exit code 1, no file or line).
TEST_F(BadInput, ConfigNonScalarKey) {
  expect_config_refused("model:\n  [hidden_size]: 1\n",
                        ":2:3: a key must be a plain name, not a list or a mapping");
  expect_config_refused("{a: 1}: 2\n", ":1:1: a key must be a plain name");
}

TEST_F(BadInput, ConfigWrongType) {
  expect_config_refused("training:\n  max_steps: ten\n",
                        ":2:14: key 'training.max_steps' expects an integer, got 'ten'");
}

TEST_F(BadInput, ConfigNegativeLayers) {
  expect_config_refused("model:\n  dec_layers: 2\n  enc_layers: -2\n",
                        ":3:15: config key 'model.enc_layers': must be at least 2");
}

TEST_F(BadInput, ConfigDropoutAtLeastOne) {
  expect_config_refused("model:\n  dropout: 1.0\n",
                        ":2:12: config key 'model.dropout': must be in [0, 1)");
}

TEST_F(BadInput, ConfigResidualStartBelowOne) {
  expect_config_refused("model:\n  residual_start: 0\n",
                        ":2:19: config key 'model.residual_start': must be at least 1");
}

TEST_F(BadInput, ConfigBeamZero) {
  write_text(d / "in.txt", "ka lo\n");
  write_text(d / "out.txt", "old\n");
  snapshot();
  expect_failure(run_gnmt("train --config " + kTiny + " --set decoding.beam=0"), 2,
                 "--set decoding.beam=0: config key 'decoding.beam': must be at least 1");
  expect_failure(translate("-i " + (d / "in.txt") + " -o " + (d / "out.txt") + " --beam 0"), 2,
                 "--beam 0: must be at least 1 (1 = greedy)");
  expect_unchanged();
}

TEST_F(BadInput, ConfigSetWithoutValue) {
  snapshot();
  expect_failure(run_gnmt("train --config " + kTiny + " --set training.lr"), 2,
                 "--set training.lr: expected section.key=value, e.g. --set training.lr=0.001");
  expect_unchanged();
}

TEST_F(BadInput, ConfigFileMissing) {
  snapshot();
  expect_failure(run_gnmt("train --config " + (d / "nope.yaml")), 2, "config file " + (d / "nope.yaml") + ": no such file");
  expect_unchanged();
}

TEST_F(BadInput, ConfigMissingCorpusFile) {
  write_text(d / "train.tgt", "ka\n");
  snapshot();
  expect_failure(run_gnmt("train --config " + kTiny + " --set data.train_src=" + (d / "train.src") + " --set data.train_tgt=" +
                          (d / "train.tgt") + " --set run_dir=" + (d / "run")),
                 2, "data.train_src " + (d / "train.src") + ": no such file");
  EXPECT_FALSE(fs::exists(d / "run"));
  expect_unchanged();
}

TEST_F(BadInput, ConfigConflictingOptions) {
  snapshot();
  expect_failure(run_gnmt("train --config " + kTiny + " --set data.train_src=" + (d / "a")), 2,
                 "config key 'data.train_tgt': train_src and train_tgt must be given together");
  expect_config_refused("model:\n  emb_dim: 32\n  hidden_size: 64\n",
                        ": config key 'model.tie_output': needs model.emb_dim == model.hidden_size (or set tie_output: false)");
}

TEST_F(BadInput, ConfigEmptyFile) {
  expect_config_refused("# nothing here\n",
                        ": config is empty; expected a mapping with model/data/training keys");
  expect_config_refused("", ": config is empty");
}

// ---- corpora ----

TEST_F(BadInput, CorpusLineCountMismatch) {
  write_text(d / "train.src", "ka lo\nmi nu\npe ri\nso tu\n");
  write_text(d / "train.tgt", "lo ka\nnu mi\nri pe\n");
  snapshot();
  auto r = train("");
  expect_failure(r, 2, "corpus files differ in length: " + (d / "train.src") + " has 4 lines, " + (d / "train.tgt") +
                           " has 3 (line 4 has no partner)");
  EXPECT_EQ(r.output.find("training SentencePiece"), std::string::npos) << r.output;  // refused before it
  EXPECT_FALSE(fs::exists(d / "run/spm.model"));
  expect_unchanged();
}

// A run that failed after training its tokenizer (here: no pair within max_len) leaves run/spm.model; a new
// run in that directory, on other data, trains its own instead of reusing it.
TEST_F(BadInput, TokenizerLeftByAFailedRunIsNotReused) {
  write_text(d / "train.src", "ka lo mi\nnu pe ri\n");
  write_text(d / "train.tgt", "mi lo ka\nri pe nu\n");
  auto failed = train("--set data.max_len=1");
  expect_failure(failed, 2, "no usable sentence pairs");
  ASSERT_TRUE(fs::exists(d / "run/spm.model"));
  const std::string stale = read_text(d / "run/spm.model");
  make_reversal_corpus(d / "train.src", d / "train.tgt", 200, 34);
  auto r = train("");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("training SentencePiece"), std::string::npos) << r.output;
  EXPECT_NE(read_text(d / "run/spm.model"), stale);
}

TEST_F(BadInput, CorpusEmptyLinesSkippedAndCounted) {
  expect_trains_and_logs("\nka lo\n   \n", "lo ka\n\nmi\n", "",
                         "train: 100 pairs kept of 103 (3 with an empty side, 0 longer than max_len 100)");
}

TEST_F(BadInput, TranslateEmptyLinesPassThrough) {
  write_text(d / "in.txt", "\nka lo mi\n\n   \nnu pe\n\n");
  auto r = translate("-i " + (d / "in.txt") + " -o " + (d / "out.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto out = read_text(d / "out.txt");
  EXPECT_TRUE(std::regex_match(out, std::regex("\n[^\n]+\n\n\n[^\n]+\n\n"))) << out;
}

TEST_F(BadInput, CorpusInvalidUtf8) {
  write_text(d / "train.src", "lo ka\nnu mi\npe\n");
  write_text(d / "train.tgt", "ka lo\nmi \xFF nu\npe\n");
  snapshot();
  expect_failure(train(""), 2, (d / "train.tgt") + ":2: invalid UTF-8 (byte 0xFF at column 4)");
  EXPECT_FALSE(fs::exists(d / "run/spm.model"));  // found before SentencePiece is trained
  expect_unchanged();                              // (the run directory is there, empty)
}

TEST_F(BadInput, TranslateInvalidUtf8) {
  write_text(d / "in.txt", "ka lo\nmi\nnu \xC3\x28 pe\n");
  write_text(d / "out.txt", "previous output\n");
  snapshot();
  expect_failure(translate("-i " + (d / "in.txt") + " -o " + (d / "out.txt")), 2,
                 (d / "in.txt") + ":3: invalid UTF-8 (byte 0xC3 at column 4)");
  expect_unchanged();
}

// In process: the same tokenizer and the same ids from a Windows file with a BOM as from the plain file.
TEST_F(BadInput, CorpusCrlfAndBomHandled) {
  make_reversal_corpus(d / "a.src", d / "a.tgt", 150, 34);
  auto crlf = [](const std::string& s) { return std::regex_replace(s, std::regex("\n"), "\r\n"); };
  write_text(d / "b.src", "\xEF\xBB\xBF" + crlf(read_text(d / "a.src")));
  write_text(d / "b.tgt", crlf(read_text(d / "a.tgt")));
  TokenizerTrainOptions o;
  o.vocab_size = 40;
  Tokenizer::train({d / "a.src", d / "a.tgt"}, o, d / "spm.model");  // (the model records its path: use one)
  const std::string plain = read_text(d / "spm.model");
  Tokenizer::train({d / "b.src", d / "b.tgt"}, o, d / "spm.model");
  EXPECT_TRUE(read_text(d / "spm.model") == plain) << "another tokenizer from the CRLF + BOM files";
  auto tok = Tokenizer::load(d / "spm.model");
  auto a = load_parallel(d / "a.src", d / "a.tgt", tok, 100), b = load_parallel(d / "b.src", d / "b.tgt", tok, 100);
  EXPECT_EQ(a.src, b.src);
  EXPECT_EQ(a.tgt, b.tgt);
  EXPECT_EQ(b.size(), 150u);
}

TEST_F(BadInput, TranslateCrlfInputHandled) {
  write_text(d / "lf.txt", "ka lo mi\nnu pe\n\nri so tu va\n");
  write_text(d / "crlf.txt", "\xEF\xBB\xBFka lo mi\r\nnu pe\r\n\r\nri so tu va\r\n");
  auto a = translate("-i " + (d / "lf.txt") + " -o " + (d / "lf.out"));
  auto b = translate("-i " + (d / "crlf.txt") + " -o " + (d / "crlf.out"));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  const std::string out = read_text(d / "crlf.out");
  EXPECT_EQ(out, read_text(d / "lf.out"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 4) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
}

TEST_F(BadInput, CorpusOverlongLineFiltered) {
  std::string longline;
  for (int i = 0; i < 40; ++i) longline += "ka lo ";
  expect_trains_and_logs(longline + "\n", "lo ka\n", "--set data.max_len=20",
                         "train: 100 pairs kept of 101 (0 with an empty side, 1 longer than max_len 20)");
}

// A line of more than the checkpoint's data.max_len (20) subwords: translated as ceil(n / 20) near-equal pieces,
// checked against translating each piece on its own (in process) and joining with a space.
TEST_F(BadInput, TranslateOverlongLineInPieces) {
  std::string longline;
  const char* words[] = {"ka", "lo", "mi", "nu", "pe", "ri", "so", "tu", "va"};
  for (int i = 0; i < 50; ++i) longline += std::string(words[i % 9]) + (i < 49 ? " " : "");
  write_text(d / "in.txt", "ka lo\n" + longline + "\n");
  auto r = translate("-i " + (d / "in.txt") + " -o " + (d / "out.txt") + " --beam 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  auto ck = load_checkpoint(shared_checkpoint(), torch::kCPU);
  ASSERT_EQ(ck.config.data.max_len, 20);
  auto ids = ck.tokenizer.encode(longline);
  const size_t n = ids.size(), pieces = (n + 19) / 20;
  ASSERT_GE(pieces, 3u);
  std::vector<std::vector<int64_t>> sources;
  for (size_t k = 0; k < pieces; ++k) {
    sources.emplace_back(ids.begin() + k * n / pieces, ids.begin() + (k + 1) * n / pieces);
    EXPECT_LE(sources.back().size(), 20u);
  }
  DecodingOptions o = ck.config.decoding;
  o.beam = 2;
  Translator whole(ck.model, ck.tokenizer, o, torch::kCPU);  // no limit: each piece as one sentence
  auto outs = whole.translate_ids(sources);
  std::string expected;
  for (const auto& out : outs) expected += (expected.empty() ? "" : " ") + ck.tokenizer.decode(out);
  auto lines = test::read_text(d / "out.txt");
  ASSERT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2) << lines;
  EXPECT_EQ(lines.substr(lines.find('\n') + 1), expected + "\n");
}

TEST_F(BadInput, CorpusWithoutFinalNewline) {
  make_reversal_corpus(d / "train.src", d / "train.tgt", 60, 36);
  auto src = read_text(d / "train.src");
  write_text(d / "train.src", src.substr(0, src.size() - 1));  // "...\nlast line" without '\n'
  auto r = train("");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("train: 60 pairs kept of 60 (0 with an empty side"), std::string::npos) << r.output;
}

TEST_F(BadInput, CorpusEmpty) {
  write_text(d / "train.src", "");
  write_text(d / "train.tgt", "");
  snapshot();
  expect_failure(train(""), 2, "cannot train SentencePiece on " + (d / "train.src") + ", " + (d / "train.tgt") +
                                   ": no text (the files are empty or blank)");
  EXPECT_FALSE(fs::exists(d / "run/spm.model"));
  // With a tokenizer given, the corpus itself is refused.
  expect_failure(train("--set data.spm_model=" + shared_run() + "/spm.model --set run_dir=" + (d / "run2")), 2,
                 "training corpus " + (d / "train.src") + ": no usable sentence pairs");
  EXPECT_FALSE(fs::exists(d / "run2/last.pt"));
  // Nothing to translate: nothing out, exit 0.
  write_text(d / "empty.txt", "");
  auto t = translate("-i " + (d / "empty.txt") + " -o " + (d / "out.txt"));
  EXPECT_EQ(t.exit_code, 0) << t.output;
  EXPECT_EQ(read_text(d / "out.txt"), "");
}

TEST_F(BadInput, CorpusDirectoryForFile) {
  fs::create_directories(d / "dir");
  write_text(d / "train.tgt", "ka\n");
  write_text(d / "out.txt", "old\n");
  snapshot();
  expect_failure(run_gnmt("train --config " + kTiny + " --set data.train_src=" + (d / "dir") + " --set data.train_tgt=" +
                          (d / "train.tgt") + " --set run_dir=" + (d / "run")),
                 2, "data.train_src " + (d / "dir") + ": is a directory, expected a file");
  expect_failure(translate("-i " + (d / "dir") + " -o " + (d / "out.txt")), 2, (d / "dir") + ": cannot open (is a directory)");
  expect_failure(translate("-i " + (d / "train.tgt") + " -o " + (d / "dir")), 2, "--output " + (d / "dir") + ": is a directory");
  expect_failure(run_gnmt("translate -m " + (d / "dir")), 2, "checkpoint " + (d / "dir") + ": is a directory, expected a file");
  expect_unchanged();
}

// chmod 000 does not stop root from reading: as root the command runs as nobody (setpriv) on a world-traversable
// directory, so the refusal is the real EACCES a user gets.
TEST_F(BadInput, CorpusUnreadableFile) {
  if (geteuid() == 0 && std::system("setpriv --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "root, and no setpriv to drop root";
  fs::permissions(d.path, fs::perms::all);
  write_text(d / "in.txt", "ka lo\n");
  write_text(d / "out.txt", "old\n");
  fs::permissions(d / "out.txt", fs::perms::all);
  fs::permissions(d / "in.txt", fs::perms::none);
  snapshot();
  expect_failure(translate("-i " + (d / "in.txt") + " -o " + (d / "out.txt"), as_unprivileged()), 2,
                 (d / "in.txt") + ": cannot open (Permission denied)");
  expect_failure(run_gnmt("train --config " + kTiny + " --set data.train_src=" + (d / "in.txt") + " --set data.train_tgt=" +
                          (d / "out.txt") + " --set run_dir=" + (d / "run"), as_unprivileged()),
                 2, "data.train_src " + (d / "in.txt") + ": cannot open for reading: Permission denied");
  expect_unchanged();
}

// ---- tokenizer ----

TEST_F(BadInput, TokenizerDoesNotMatchCheckpoint) {
  copy_shared_run();
  TokenizerTrainOptions o;
  o.vocab_size = 40;
  Tokenizer::train({d / "train.src"}, o, d / "other.model");
  snapshot();
  expect_failure(train("--resume --set training.max_steps=40 --set data.max_len=20 --set data.spm_model=" + (d / "other.model")), 2,
                 "--resume: " + (d / "run") + "/last.pt was trained with another SentencePiece model than " + (d / "other.model"));
  expect_unchanged();
}

TEST_F(BadInput, TokenizerFileIsNotSentencePiece) {
  write_text(d / "spm.model", "not a model\n");
  make_reversal_corpus(d / "train.src", d / "train.tgt", 20, 38);
  snapshot();
  expect_failure(train("--set data.spm_model=" + (d / "spm.model")), 2, (d / "spm.model") + ": not a valid SentencePiece model");
  fs::remove_all(d / "run");  // created before the tokenizer is loaded; it stays empty
  expect_unchanged();
}

// ---- checkpoints ----

TEST_F(BadInput, CheckpointTruncated) {
  auto bytes = read_text(shared_checkpoint());
  write_text(d / "cut.pt", bytes.substr(0, bytes.size() - 1000));
  write_text(d / "in.txt", "ka lo\n");
  write_text(d / "out.txt", "old\n");
  snapshot();
  expect_failure(run_gnmt("translate -m " + (d / "cut.pt") + " -i " + (d / "in.txt") + " -o " + (d / "out.txt")), 2,
                 "checkpoint " + (d / "cut.pt") + ": not a readable gnmt checkpoint: no checksum trailer at its end (truncated");
  expect_failure(run_gnmt("info " + (d / "cut.pt")), 2, "no checksum trailer");
  expect_unchanged();
}

TEST_F(BadInput, CheckpointCorrupted) {
  auto bytes = read_text(shared_checkpoint());
  bytes[bytes.size() / 2] ^= 0x10;
  write_text(d / "bad.pt", bytes);
  write_text(d / "in.txt", "ka lo\n");
  write_text(d / "out.txt", "old\n");
  snapshot();
  expect_failure(run_gnmt("translate -m " + (d / "bad.pt") + " -i " + (d / "in.txt") + " -o " + (d / "out.txt")), 2,
                 "checkpoint " + (d / "bad.pt") + ": not a readable gnmt checkpoint: checksum mismatch: stored CRC-32 ");
  expect_unchanged();
}

TEST_F(BadInput, CheckpointOtherModelShape) {
  copy_shared_run();
  snapshot();
  expect_failure(train("--resume --set training.max_steps=40 --set data.max_len=20 --set model.hidden_size=32 --set model.emb_dim=32"), 2,
                 "--resume: " + (d / "run") + "/last.pt holds a different model: model.emb_dim: 64 -> 32; model.hidden_size: 64 -> 32");
  expect_unchanged();
}

TEST_F(BadInput, CheckpointMissing) {
  write_text(d / "in.txt", "ka\n");
  snapshot();
  expect_failure(run_gnmt("translate -m " + (d / "none.pt") + " -i " + (d / "in.txt")), 2, "checkpoint " + (d / "none.pt") + ": no such file");
  expect_failure(run_gnmt("info " + (d / "none.pt")), 2, "no such file");
  expect_unchanged();
}

// ---- command line ----

TEST_F(BadInput, CliUnknownFlag) {
  snapshot();
  expect_failure(run_gnmt("train --config " + kTiny + " --no-such-flag"), 2, "--no-such-flag");
  EXPECT_NE(last_line(run_gnmt("translate -m x.pt --bem 3").output).find("--bem"), std::string::npos);
  expect_unchanged();
}

TEST_F(BadInput, CliMissingValue) {
  snapshot();
  auto r = run_gnmt("translate -m");
  expect_failure(r, 2, "--checkpoint: 1 required TEXT missing");
  expect_failure(run_gnmt("translate -m " + shared_checkpoint() + " --beam"), 2, "--beam");
  expect_unchanged();
}

TEST_F(BadInput, CliContradictoryFlags) {
  snapshot();
  expect_failure(run_gnmt("train --config " + kTiny + " --dump-config --resume"), 2, "--resume excludes --dump-config");
  expect_unchanged();
}

TEST_F(BadInput, CliOutputIsInput) {
  write_text(d / "in.txt", "ka lo mi\n");
  snapshot();
  expect_failure(translate("-i " + (d / "in.txt") + " -o " + d.path.string() + "/./in.txt"), 2,
                 "--output " + d.path.string() + "/./in.txt is the input file; choose another path");
  expect_unchanged();
}

// ---- training numerics ----

// A real way to a non-finite loss: lr 1e30. Step 1 is applied; from then on every loss is NaN or inf, each step is
// skipped (the step counter does not move: no update) and counted, and max_bad_steps in a row stop the run.
TEST_F(BadInput, NonFiniteLossSkippedThenStops) {
  auto r = train("--set training.lr=1e30 --set training.warmup_steps=0 --set training.max_steps=50 "
                 "--set training.max_bad_steps=3 --set training.save_every=1");
  expect_failure(r, 2, "training diverged at step 2: 3 steps in a row with a non-finite loss or gradient norm "
                       "(training.max_bad_steps = 3); lower training.lr or set training.clip_norm");
  for (int k = 1; k <= 3; ++k)
    EXPECT_TRUE(std::regex_search(r.output, std::regex("step 2: (loss|gradient norm) is -?(nan|inf)[^\n]*; update skipped \\(" +
                                                       std::to_string(k) + " in a row, " + std::to_string(k) + " in total\\)")))
        << r.output;
  EXPECT_EQ(load_checkpoint(d / "run/last.pt", torch::kCPU).state.step, 1);  // the last good step, intact
  EXPECT_FALSE(fs::exists(d / "run/ckpt-2.pt"));
}

// In process: a finite loss with an infinite gradient (gradient explosion) is skipped like a NaN loss; the guard
// never touches the weights, and a finite step is clipped to clip_norm (as the trainer measures and clips).
TEST_F(BadInput, GradientExplosionSkipsUpdate) {
  auto w = torch::tensor({3.0f, 4.0f}).requires_grad_();
  std::vector<torch::Tensor> params{w};
  StepGuard guard(2);
  (w * w).sum().backward();  // grad (6, 8): norm 10
  EXPECT_TRUE(guard.check(1.0, clip_gradients(params, 5.0), 1));
  EXPECT_NEAR(w.grad().norm().item<double>(), 5.0, 1e-4);
  w.grad().fill_(std::numeric_limits<float>::infinity());
  EXPECT_FALSE(guard.check(1.0, clip_gradients(params, 5.0), 2));
  EXPECT_EQ(guard.skipped_in_a_row(), 1);
  EXPECT_TRUE(torch::equal(w.detach(), torch::tensor({3.0f, 4.0f})));
  w.grad().fill_(1.0f);
  EXPECT_TRUE(guard.check(2.0, clip_gradients(params, 0.0), 3));  // unclipped norm sqrt(2): fine, and the count resets
  EXPECT_EQ(guard.skipped_in_a_row(), 0);
  EXPECT_FALSE(guard.check(std::nan(""), 0.0, 4));
  w.grad().fill_(std::numeric_limits<float>::quiet_NaN());
  try {
    guard.check(1.0, clip_gradients(params, 0.0), 5);
    FAIL() << "expected gnmt::Error after 2 bad steps in a row";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("training diverged at step 5: 2 steps in a row"), std::string::npos) << e.what();
  }
  EXPECT_EQ(guard.skipped_total(), 3);
  EXPECT_NEAR(clip_gradients({torch::tensor({1.0f}).requires_grad_()}, 0.0), 0.0, 0.0);  // no gradient yet: left out
}

// ---- resources ----

// Disk full, simulated with the file size limit (ulimit -f, in 1 KiB blocks): with SIGXFSZ ignored, a write past
// it fails with EFBIG as on a full disk (ENOSPC on a real tmpfs: see checkpoint_test.cpp). Works without root.
const std::string kFileLimit = "ulimit -f 1; trap '' XFSZ; ";

TEST_F(BadInput, DiskFullWritingTranslation) {
  std::string big;
  for (int i = 0; i < 300; ++i) big += "ka lo mi nu pe\n";
  write_text(d / "in.txt", big);
  write_text(d / "out.txt", "previous translations\n");
  snapshot();
  expect_failure(translate("-i " + (d / "in.txt") + " -o " + (d / "out.txt") + " --beam 1", kFileLimit), 2,
                 "cannot write " + (d / "out.txt") + ": File too large");
  expect_unchanged();  // the old output intact, no temporary file left
}

TEST_F(BadInput, DiskFullWritingCheckpoint) {
  copy_shared_run();
  snapshot();
  auto r = train("--resume --set training.max_steps=32 --set data.max_len=20", "ulimit -f 512; trap '' XFSZ; ");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  expect_failure(r, 1, "saving the checkpoint of step 32 failed: cannot write " + (d / "run") + "/ckpt-32.pt: File too large");
  EXPECT_NE(last_line(r.output).find((d / "run") + "/last.pt (step 30) is intact; training stopped"), std::string::npos) << r.output;
  auto after = files_in(d.path);
  after.erase("run/config.yaml");  // rewritten (unchanged content) at start
  before.erase("run/config.yaml");
  EXPECT_EQ(after, before);
}

TEST_F(BadInput, RunDirWithoutWritePermission) {
  if (geteuid() == 0 && std::system("setpriv --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "root, and no setpriv to drop root";
  make_reversal_corpus(d / "train.src", d / "train.tgt", 50, 37);
  fs::permissions(d.path, fs::perms::all);
  fs::create_directories(d / "run");
  fs::permissions(d / "run", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
  for (const char* f : {"train.src", "train.tgt"}) fs::permissions(d / f, fs::perms::all);
  snapshot();
  expect_failure(train("", as_unprivileged()), 2, "run_dir " + (d / "run") + ": cannot create or write to it");
  expect_unchanged();
}

// Out of memory on CPU: the address space is capped (ulimit -v, in KiB) a little above what gnmt needs to start,
// and one batch of long sentences needs more. The step's allocation fails and gnmt names the batch size.
TEST_F(BadInput, OutOfMemoryBatch) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space: no ulimit -v under it";
#endif
  std::string src, tgt;
  for (int i = 0; i < 400; ++i) {
    for (int k = 0; k < 300; ++k) src += k % 2 ? "ka " : "lo ";
    for (int k = 0; k < 300; ++k) tgt += k % 2 ? "mi " : "nu ";
    src += "\n";
    tgt += "\n";
  }
  write_text(d / "train.src", src);
  write_text(d / "train.tgt", tgt);
  auto r = train("--set data.max_len=1000 --set training.batch_tokens=10000000", "ulimit -v 6000000; ");
  expect_failure(r, 1, "out of memory with training.batch_tokens=10000000 (");
  EXPECT_NE(last_line(r.output).find("); lower it and run again"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(d / "run/last.pt"));
}

}  // namespace
}  // namespace gnmt
