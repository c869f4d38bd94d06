// Checkpoints that never lose work (issue 4): checksums refuse truncated or damaged files, training killed
// with SIGKILL or SIGTERM at random steps resumes bit for bit, `gnmt average`, best metric and early
// stopping, refusals of another model shape / vocabulary / format, and a full disk while saving.
// Runs the gnmt binary on configs/tiny.yaml with small corpora made here, one thread.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <regex>

#include "cli/average_command.h"
#include "common/error.h"
#include "data/tokenizer.h"
#include "training/checkpoint.h"
#include "test_util.h"

namespace gnmt {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::run_gnmt;
using test::TempDir;
using test::write_text;
using test::make_reversal_corpus;

// `train` arguments for a tiny run on the corpus in `d` into `run`.
std::string train_args(const TempDir& d, const std::string& run, const std::string& extra = "") {
  return "train --config " GNMT_SOURCE_DIR "/configs/tiny.yaml --set data.train_src=" + (d / "train.src") +
         " --set data.train_tgt=" + (d / "train.tgt") + " --set data.valid_src=" + (d / "valid.src") +
         " --set data.valid_tgt=" + (d / "valid.tgt") + " --set training.valid_bleu_lines=10 --set run_dir=" + run +
         " " + extra;
}

// The "step N ... | loss X |" pairs of a training log.
std::map<int, std::string> losses(const std::string& log) {
  std::map<int, std::string> out;
  std::regex re("step ([0-9]+) epoch [0-9]+ batch [0-9/]+ \\| loss ([0-9.]+)");
  for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it) out[std::stoi((*it)[1])] = (*it)[2];
  return out;
}

// Runs gnmt with `args`; once its log shows step `at_step` (or later), calls `act` with its pid. Returns the
// output and the exit code (128 + signal when killed by one).
test::RunResult run_gnmt_and_act(const std::string& args, int at_step, const std::function<void(pid_t)>& act) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  std::string cmd = std::string("exec ") + GNMT_BINARY + " " + args + " 2>&1";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  test::RunResult r;
  std::regex step_re("\\] step ([0-9]+) epoch");
  bool sent = false;
  size_t scanned = 0;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) {
    r.output.append(buf, static_cast<size_t>(n));
    if (sent) continue;
    size_t nl = r.output.rfind('\n');
    if (nl == std::string::npos || nl < scanned) continue;
    std::string fresh = r.output.substr(scanned, nl + 1 - scanned);
    scanned = nl + 1;
    for (std::sregex_iterator it(fresh.begin(), fresh.end(), step_re), end; it != end; ++it) {
      if (std::stoi((*it)[1]) >= at_step) {
        act(pid);
        sent = true;
        break;
      }
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : (WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1);
  return r;
}

test::RunResult run_gnmt_and_signal(const std::string& args, int at_step, int sig) {
  return run_gnmt_and_act(args, at_step, [sig](pid_t pid) { kill(pid, sig); });
}

void expect_same_weights(const std::string& a_path, const std::string& b_path) {
  auto a = load_checkpoint(a_path, torch::kCPU), b = load_checkpoint(b_path, torch::kCPU);
  EXPECT_EQ(a.state.step, b.state.step);
  auto pb = b.model->named_parameters();
  for (const auto& p : a.model->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key() << " differs between " << a_path << " and " << b_path;
  ASSERT_EQ(a.ema.size(), b.ema.size());
  for (const auto& [k, t] : a.ema) EXPECT_TRUE(torch::equal(t, b.ema.at(k))) << "EMA " << k;
  EXPECT_EQ(a.state.history, b.state.history);
}

// Kills a run at random steps with `sig`, resumes each time, and compares with an uninterrupted run.
void kill_and_resume_matches_uninterrupted(int sig) {
  TempDir d;
  make_reversal_corpus(d / "train.src", d / "train.tgt", 400, 4);
  make_reversal_corpus(d / "valid.src", d / "valid.tgt", 20, 5);
  const int steps = 30;
  const std::string opts = "--exact-losses --set model.dropout=0.3 --set training.log_every=1 --set training.save_every=4"
                           " --set training.valid_every=10 --set training.ema_decay=0.9 --set training.max_steps=" +
                           std::to_string(steps);
  auto full = run_gnmt(train_args(d, d / "a", opts));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  auto expected = losses(full.output);
  ASSERT_EQ(expected.size(), static_cast<size_t>(steps)) << full.output;

  std::random_device rd;
  std::mt19937 rng(rd());
  // Three interruptions at random steps: the first after the first checkpoint (step 4), each later one in
  // the run resumed after the previous.
  std::vector<int> kill_at = {5 + static_cast<int>(rng() % 9)};
  for (int i = 0; i < 2; ++i) kill_at.push_back(kill_at.back() + 3 + static_cast<int>(rng() % 6));
  SCOPED_TRACE("signal " + std::to_string(sig) + " at steps " + std::to_string(kill_at[0]) + ", " +
               std::to_string(kill_at[1]) + ", " + std::to_string(kill_at[2]));
  const int interrupted_code = sig == SIGKILL ? 128 + SIGKILL : 75;
  std::map<int, std::string> seen;
  auto check = [&](const test::RunResult& r) {
    for (const auto& [step, loss] : losses(r.output)) {
      EXPECT_EQ(loss, expected[step]) << "step " << step;
      seen[step] = loss;
    }
  };
  int interruptions = 0;
  for (size_t i = 0; i <= kill_at.size(); ++i) {
    std::string args = train_args(d, d / "b", opts + (i > 0 ? " --resume" : ""));
    auto r = i < kill_at.size() ? run_gnmt_and_signal(args, kill_at[i], sig) : run_gnmt(args);
    check(r);
    if (i > 0) {
      EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
    }
    if (r.exit_code == 0) break;  // finished before the signal arrived: still a valid comparison
    ASSERT_EQ(r.exit_code, interrupted_code) << r.output;
    ++interruptions;
  }
  EXPECT_GE(interruptions, 2);
  EXPECT_EQ(seen.size(), static_cast<size_t>(steps));  // every step was logged by one of the runs
  for (const auto& e : fs::directory_iterator(d / "b"))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "leftover " << e.path();
  expect_same_weights(d / "a/last.pt", d / "b/last.pt");
}

TEST(CheckpointResume, SigkillAtRandomStepsResumesBitForBit) { kill_and_resume_matches_uninterrupted(SIGKILL); }

TEST(CheckpointResume, SigtermAtRandomStepsResumesBitForBit) { kill_and_resume_matches_uninterrupted(SIGTERM); }

// One tiny run shared by the tests below: checkpoints at steps 10, 20, 30.
class CheckpointFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    make_reversal_corpus(*dir_ / "train.src", *dir_ / "train.tgt", 300, 7);
    make_reversal_corpus(*dir_ / "valid.src", *dir_ / "valid.tgt", 20, 8);
    auto r = run_gnmt(train_args(*dir_, *dir_ / "run",
                                 "--set training.max_steps=30 --set training.save_every=10 --set training.valid_every=10"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() { delete dir_; dir_ = nullptr; }
  static TempDir* dir_;
  const TempDir& d() { return *dir_; }
};
TempDir* CheckpointFiles::dir_ = nullptr;

std::string damaged_copy(const std::string& from, const std::string& to, int64_t truncate_at, int64_t flip_at) {
  std::string bytes = read_text(from);
  if (truncate_at >= 0) bytes.resize(static_cast<size_t>(truncate_at));
  if (flip_at >= 0) bytes[static_cast<size_t>(flip_at)] ^= 0x5A;
  write_text(to, bytes);
  return to;
}

TEST_F(CheckpointFiles, TruncatedOrFlippedCheckpointIsRefusedInProcess) {
  const std::string good = d() / "run/last.pt";
  const int64_t size = static_cast<int64_t>(fs::file_size(good));
  ASSERT_NO_THROW(load_checkpoint(good, torch::kCPU));
  std::vector<int64_t> cuts = {0, 1, 19, 20, 21, 100, 4096, size / 3, size / 2, size - 21, size - 20, size - 19, size - 1};
  std::vector<int64_t> flips = {0, 1, 30, 200, 5000, size / 4, size / 2, size - 100, size - 21,
                                size - 20, size - 13, size - 5, size - 1};
  std::mt19937 rng(11);
  for (int i = 0; i < 5; ++i) flips.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(size)));
  auto expect_refused = [&](const std::string& path, const std::string& what) {
    try {
      load_checkpoint(path, torch::kCPU);
      ADD_FAILURE() << what << ": loaded";
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind("checkpoint " + path + ": not a readable gnmt checkpoint: ", 0), 0u) << what << ": " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  };
  for (auto cut : cuts) expect_refused(damaged_copy(good, d() / "cut.pt", cut, -1), "cut at " + std::to_string(cut));
  for (auto flip : flips) expect_refused(damaged_copy(good, d() / "flip.pt", -1, flip), "flip at " + std::to_string(flip));
  // Extra bytes at the end are damage too.
  write_text(d() / "long.pt", read_text(good) + "x");
  expect_refused(d() / "long.pt", "appended byte");
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);  // the standard CRC-32 check value
}

TEST_F(CheckpointFiles, TruncatedOrFlippedCheckpointIsRefusedByEveryCommand) {
  const std::string good = d() / "run/last.pt";
  const int64_t size = static_cast<int64_t>(fs::file_size(good));
  write_text(d() / "in.txt", "ka lo mi\n");
  // A run directory whose last.pt is the damaged file, for train --resume.
  TempDir r;
  fs::copy_file(d() / "run/spm.model", r / "spm.model");
  struct Case { int64_t cut, flip; };
  for (Case c : {Case{size / 2, -1}, Case{size - 1, -1}, Case{7, -1}, Case{-1, 1000}, Case{-1, size - 3}, Case{-1, size / 3}}) {
    SCOPED_TRACE("cut " + std::to_string(c.cut) + " flip " + std::to_string(c.flip));
    std::string bad = damaged_copy(good, r / "last.pt", c.cut, c.flip);
    for (const std::string& cmd : {"translate -m " + bad + " -i " + (d() / "in.txt"), "info " + bad,
                                   train_args(d(), r.path.string(), "--resume")}) {
      auto out = run_gnmt(cmd);
      EXPECT_EQ(out.exit_code, 2) << cmd << "\n" << out.output;
      EXPECT_NE(out.output.find("gnmt: error: checkpoint " + bad + ": not a readable gnmt checkpoint: "), std::string::npos)
          << cmd << "\n" << out.output;
      EXPECT_EQ(out.output.find("Traceback"), std::string::npos);
    }
  }
}

TEST_F(CheckpointFiles, AnotherFormatVersionIsRefused) {
  torch::serialize::OutputArchive a;
  a.write("gnmt.format", c10::IValue(int64_t{99}));
  write_checksummed_archive(d() / "v99.pt", a);
  auto out = run_gnmt("info " + (d() / "v99.pt"));
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_NE(out.output.find("v99.pt: format version 99, this gnmt reads 2"), std::string::npos) << out.output;
}

TEST_F(CheckpointFiles, Format1CheckpointWithoutChecksumIsStillRead) {
  // What gnmt wrote before checksums: the archive alone, format 1, no trailer.
  auto ck = load_checkpoint(d() / "run/last.pt", torch::kCPU);
  torch::serialize::OutputArchive a, w;
  ck.model->save(w);
  a.write("model", w);
  a.write("gnmt.format", c10::IValue(int64_t{1}));
  a.write("gnmt.config", c10::IValue(dump_config(ck.config)));
  a.write("gnmt.tokenizer", c10::IValue(ck.tokenizer.serialized()));
  a.write("gnmt.step", c10::IValue(int64_t{30}));
  a.write("gnmt.history", c10::IValue(std::string()));
  a.save_to(d() / "v1.pt");
  auto info = run_gnmt("info " + (d() / "v1.pt"));
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("format 1, written before checkpoints had checksums"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("format: 1 (no checksum)"), std::string::npos) << info.output;
  auto v1 = load_checkpoint(d() / "v1.pt", torch::kCPU);
  auto p1 = v1.model->named_parameters();
  for (const auto& p : ck.model->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), p1[p.key()])) << p.key();
  // A format-2 file cut before its trailer is a valid archive too, but says format 2: refused.
  std::string bytes = read_text(d() / "run/last.pt");
  write_text(d() / "cut.pt", bytes.substr(0, bytes.size() - 20));
  auto cut = run_gnmt("info " + (d() / "cut.pt"));
  EXPECT_EQ(cut.exit_code, 2);
  EXPECT_NE(cut.output.find("cut.pt: not a readable gnmt checkpoint: no checksum trailer"), std::string::npos) << cut.output;
}

TEST_F(CheckpointFiles, ResumeRefusesAnotherModelShapeOrVocabulary) {
  TempDir r;
  fs::copy_file(d() / "run/spm.model", r / "spm.model");
  fs::copy_file(d() / "run/last.pt", r / "last.pt");
  auto shape = run_gnmt(train_args(d(), r.path.string(), "--resume --set model.hidden_size=32 --set model.emb_dim=32"));
  EXPECT_EQ(shape.exit_code, 2) << shape.output;
  EXPECT_NE(shape.output.find("holds a different model: model.emb_dim: 64 -> 32; model.hidden_size: 64 -> 32"),
            std::string::npos) << shape.output;

  std::string text;
  for (int i = 0; i < 100; ++i) text += "a completely different corpus line " + std::to_string(i % 13) + "\n";
  write_text(r / "other.txt", text);
  TokenizerTrainOptions to;
  to.vocab_size = 40;
  Tokenizer::train({r / "other.txt"}, to, r / "other.spm");
  auto vocab = run_gnmt(train_args(d(), r.path.string(), "--resume --set data.spm_model=" + (r / "other.spm")));
  EXPECT_EQ(vocab.exit_code, 2) << vocab.output;
  EXPECT_NE(vocab.output.find("was trained with another SentencePiece model than " + (r / "other.spm")), std::string::npos)
      << vocab.output;
  EXPECT_TRUE(std::regex_search(vocab.output, std::regex("\\([0-9]+ pieces in the checkpoint, [0-9]+ now\\)"))) << vocab.output;
  EXPECT_TRUE(read_text(r / "last.pt") == read_text(d() / "run/last.pt"));  // untouched
}

TEST_F(CheckpointFiles, AveragingThreeCheckpointsGivesTheMeanComputedByHand) {
  std::vector<std::string> in = {d() / "run/ckpt-10.pt", d() / "run/ckpt-20.pt", d() / "run/ckpt-30.pt"};
  auto out = run_gnmt("average " + in[0] + " " + in[1] + " " + in[2] + " --output " + (d() / "avg.pt"));
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto avg = load_checkpoint(d() / "avg.pt", torch::kCPU);
  std::vector<Checkpoint> cks;
  for (const auto& p : in) cks.push_back(load_checkpoint(p, torch::kCPU));
  EXPECT_EQ(avg.state.step, 30);
  auto params = avg.model->named_parameters();
  ASSERT_GT(params.size(), 0u);
  for (const auto& p : params) {
    auto got = p.value().contiguous();
    std::vector<torch::Tensor> x;
    for (auto& ck : cks) x.push_back(ck.model->named_parameters()[p.key()].contiguous());
    ASSERT_EQ(got.scalar_type(), torch::kFloat);
    const float* g = got.data_ptr<float>();
    const float *a = x[0].data_ptr<float>(), *b = x[1].data_ptr<float>(), *c = x[2].data_ptr<float>();
    int64_t wrong = 0;
    for (int64_t i = 0; i < got.numel(); ++i) {
      float mean = static_cast<float>((static_cast<double>(a[i]) + static_cast<double>(b[i]) + static_cast<double>(c[i])) / 3.0);
      wrong += g[i] != mean;
    }
    EXPECT_EQ(wrong, 0) << p.key();
    EXPECT_FALSE(torch::equal(got, x[2])) << p.key();  // really averaged
  }
  // The result is a checkpoint like any other.
  write_text(d() / "in.txt", "ka lo mi\n");
  auto tr = run_gnmt("translate -m " + (d() / "avg.pt") + " -i " + (d() / "in.txt"));
  EXPECT_EQ(tr.exit_code, 0) << tr.output;
  auto info = run_gnmt("info " + (d() / "avg.pt"));
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_NE(info.output.find("averaged 3 checkpoints"), std::string::npos) << info.output;

  auto help = run_gnmt("average --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--ema"), std::string::npos) << help.output;
  EXPECT_NE(run_gnmt("--help").output.find("average"), std::string::npos);

  // Another model shape is refused, saying what differs; nothing is written.
  auto other = run_gnmt(train_args(d(), d() / "run32",
                                   "--set model.hidden_size=32 --set model.emb_dim=32 --set training.max_steps=2 "
                                   "--set data.spm_model=" + (d() / "run/spm.model")));
  ASSERT_EQ(other.exit_code, 0) << other.output;
  auto bad = run_gnmt("average " + in[0] + " " + (d() / "run32/last.pt") + " -o " + (d() / "bad.pt"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("has another model shape than " + in[0] + ": model.emb_dim: 64 -> 32; model.hidden_size: 64 -> 32"),
            std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(d() / "bad.pt"));
}

TEST(CheckpointTraining, EarlyStoppingAndBestMetric) {
  TempDir d;
  make_reversal_corpus(d / "train.src", d / "train.tgt", 200, 9);
  make_reversal_corpus(d / "valid.src", d / "valid.tgt", 20, 10);
  // With a learning rate this small the greedy output, hence BLEU, never changes: the first validation is
  // the best and three more without improvement stop the run.
  auto r = run_gnmt(train_args(d, d / "run", "--set training.lr=1e-12 --set training.valid_every=1 --set training.early_stop=3 "
                                               "--set training.best_metric=bleu --set training.max_steps=100"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("early stopping: 3 validations in a row without a better BLEU"), std::string::npos) << r.output;
  EXPECT_EQ(load_checkpoint(d / "run/last.pt", torch::kCPU).state.step, 4);
  EXPECT_EQ(load_checkpoint(d / "run/best.pt", torch::kCPU).state.step, 1);

  // best_metric: xent keeps the checkpoint with the lowest validation cross-entropy as best.pt.
  auto x = run_gnmt(train_args(d, d / "xent", "--set training.valid_every=5 --set training.best_metric=xent "
                                                "--set training.max_steps=30 --set training.save_every=0"));
  ASSERT_EQ(x.exit_code, 0) << x.output;
  auto last = load_checkpoint(d / "xent/last.pt", torch::kCPU);
  auto best = load_checkpoint(d / "xent/best.pt", torch::kCPU);
  std::regex re("step=([0-9]+) valid_xent=([0-9.]+)");
  double min_xent = 1e9;
  std::map<int, double> xent;
  for (std::sregex_iterator it(last.state.history.begin(), last.state.history.end(), re), end; it != end; ++it) {
    xent[std::stoi((*it)[1])] = std::stod((*it)[2]);
    min_xent = std::min(min_xent, std::stod((*it)[2]));
  }
  ASSERT_EQ(xent.size(), 6u) << last.state.history;
  EXPECT_EQ(xent[static_cast<int>(best.state.step)], min_xent) << last.state.history;
  EXPECT_NEAR(best.state.best_valid_xent, min_xent, 1e-4);

  auto bad = run_gnmt(train_args(d, d / "bad", "--set training.best_metric=loss"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("training.best_metric"), std::string::npos) << bad.output;
}

TEST(CheckpointTraining, EmaIsSavedBesideTheRawWeightsAndCanBeExported) {
  TempDir d;
  make_reversal_corpus(d / "train.src", d / "train.tgt", 200, 14);
  make_reversal_corpus(d / "valid.src", d / "valid.tgt", 10, 15);
  auto r = run_gnmt(train_args(d, d / "run", "--set training.ema_decay=0.5 --set training.max_steps=3 "
                                               "--set training.save_every=1 --set training.keep_last=3"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto c2 = load_checkpoint(d / "run/ckpt-2.pt", torch::kCPU), c3 = load_checkpoint(d / "run/ckpt-3.pt", torch::kCPU);
  auto raw3 = c3.model->named_parameters();
  ASSERT_EQ(c3.ema.size(), raw3.size());
  for (const auto& p : raw3) {  // ema_3 = 0.5 ema_2 + 0.5 w_3, and differs from w_3
    EXPECT_TRUE(torch::allclose(c3.ema.at(p.key()), 0.5 * c2.ema.at(p.key()) + 0.5 * p.value(), 1e-6, 1e-7)) << p.key();
    EXPECT_FALSE(torch::equal(c3.ema.at(p.key()), p.value())) << p.key();
  }
  auto exp = run_gnmt("average --ema " + (d / "run/ckpt-3.pt") + " -o " + (d / "ema.pt"));
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  auto e = load_checkpoint(d / "ema.pt", torch::kCPU);
  for (const auto& p : e.model->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), c3.ema.at(p.key()))) << p.key();
  EXPECT_NE(run_gnmt("info " + (d / "run/last.pt")).output.find("EMA weights: yes"), std::string::npos);
}

// Disk full while saving: a 16 MiB tmpfs holds one checkpoint (~3.6 MB), then is filled up.
TEST(CheckpointTraining, DiskFullWhileSavingStopsAndKeepsThePreviousCheckpoint) {
  TempDir d;
  const std::string mnt = d / "mnt";
  fs::create_directories(mnt);
  if (geteuid() != 0 || mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  struct Unmount { std::string p; ~Unmount() { umount2(p.c_str(), MNT_DETACH); } } unmount{mnt};
  make_reversal_corpus(d / "train.src", d / "train.tgt", 200, 12);
  make_reversal_corpus(d / "valid.src", d / "valid.tgt", 10, 13);
  const std::string run = mnt + "/run";
  auto first = run_gnmt(train_args(d, run, "--set training.max_steps=5 --set training.save_every=5"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::string before = read_text(run + "/last.pt");

  struct statvfs vfs {};
  ASSERT_EQ(statvfs(mnt.c_str(), &vfs), 0);
  const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  ASSERT_GT(free_bytes, 1u << 20);
  write_text(mnt + "/filler", std::string(free_bytes - (1u << 20), 'x'));  // leave 1 MiB: too little

  auto full = run_gnmt(train_args(d, run, "--resume --set training.max_steps=10 --set training.save_every=5"));
  EXPECT_EQ(full.exit_code, 1) << full.output;
  EXPECT_NE(full.output.find("saving the checkpoint of step 10 failed: cannot write " + run + "/ckpt-10.pt: No space left on device (disk full)"),
            std::string::npos) << full.output;
  EXPECT_NE(full.output.find(run + "/last.pt (step 5) is intact; training stopped"), std::string::npos) << full.output;
  EXPECT_TRUE(read_text(run + "/last.pt") == before);
  for (const auto& e : fs::directory_iterator(run))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "leftover " << e.path();

  // Space freed: the run continues from step 5.
  fs::remove(mnt + "/filler");
  auto again = run_gnmt(train_args(d, run, "--resume --set training.max_steps=10 --set training.save_every=5"));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(load_checkpoint(run + "/last.pt", torch::kCPU).state.step, 10);

  // The file system turns read-only in the middle of a run: the next save fails the same way.
  const std::string at10 = read_text(run + "/last.pt");
  auto ro = run_gnmt_and_act(train_args(d, run, "--resume --set training.max_steps=60 --set training.save_every=25 --set training.log_every=1"), 12,
                             [&](pid_t) { ASSERT_EQ(mount(nullptr, mnt.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr), 0)
                                              << std::strerror(errno); });
  EXPECT_EQ(ro.exit_code, 1) << ro.output;
  EXPECT_NE(ro.output.find("saving the checkpoint of step 25 failed: cannot write " + run + "/ckpt-25.pt: Read-only file system"),
            std::string::npos) << ro.output;
  EXPECT_NE(ro.output.find(run + "/last.pt (step 10) is intact; training stopped"), std::string::npos) << ro.output;
  EXPECT_TRUE(read_text(run + "/last.pt") == at10);  // (no binary dump on failure)
  // ... and a run started on it is refused before any work.
  auto start = run_gnmt(train_args(d, run, "--resume --set training.max_steps=60"));
  EXPECT_EQ(start.exit_code, 2) << start.output;
  EXPECT_NE(start.output.find("run_dir " + run + ": cannot create or write to it"), std::string::npos) << start.output;
}

}  // namespace
}  // namespace gnmt
