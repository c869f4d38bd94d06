// Data-parallel training (Gloo, two processes on 127.0.0.1), gradient accumulation, resuming on another
// number of processes, keep_best, mixed precision and dynamic loss scaling.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "common/error.h"
#include "training/checkpoint.h"
#include "training/distributed.h"
#include "training/mixed_precision.h"
#include "test_util.h"

namespace gnmt {
namespace {

namespace fs = std::filesystem;
using test::make_reversal_corpus;
using test::read_text;
using test::run_gnmt;
using test::TempDir;

std::string train_args(const TempDir& d, const std::string& run, const std::string& extra) {
  return "train --config " GNMT_SOURCE_DIR "/configs/tiny.yaml --set data.train_src=" + (d / "train.src") +
         " --set data.train_tgt=" + (d / "train.tgt") + " --set run_dir=" + run +
         " --exact-losses --set training.log_every=1 --set model.dropout=0.3 " + extra;
}

// The per-step training losses of a log ("step N epoch E batch B/N | loss X").
std::map<int, double> losses(const std::string& log) {
  std::map<int, double> out;
  std::regex re("step ([0-9]+) epoch [0-9]+ batch [0-9/]+ \\| loss ([0-9.]+)");
  for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it) out[std::stoi((*it)[1])] = std::stod((*it)[2]);
  return out;
}

struct RankResult { int exit_code = -1; std::string output; };

// Starts `world` gnmt processes with torchrun's variables on 127.0.0.1 and waits for all of them.
std::vector<RankResult> run_ranks(const TempDir& d, int world, const std::string& args) {
  std::random_device rd;
  const int port = 20000 + static_cast<int>(rd() % 30000);
  std::string script;
  for (int r = 0; r < world; ++r)
    script += "(WORLD_SIZE=" + std::to_string(world) + " RANK=" + std::to_string(r) + " LOCAL_RANK=" + std::to_string(r) +
              " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " OMP_WAIT_POLICY=PASSIVE " GNMT_BINARY " " +
              args + " > " + (d / ("rank" + std::to_string(r) + ".log")) + " 2>&1; echo $? > " + (d / ("rank" + std::to_string(r) + ".rc")) +
              ") & ";
  script += "wait";
  EXPECT_EQ(std::system(("timeout 600 bash -c '" + script + "'").c_str()), 0);
  std::vector<RankResult> out(world);
  for (int r = 0; r < world; ++r) {
    out[r].output = read_text(d / ("rank" + std::to_string(r) + ".log"));
    std::string rc = read_text(d / ("rank" + std::to_string(r) + ".rc"));
    out[r].exit_code = rc.empty() ? -1 : std::stoi(rc);
  }
  return out;
}

// Largest |a - b| over all parameters of two checkpoints, and the largest |a|.
std::pair<double, double> max_weight_difference(const std::string& a_path, const std::string& b_path) {
  auto a = load_checkpoint(a_path, torch::kCPU), b = load_checkpoint(b_path, torch::kCPU);
  EXPECT_EQ(a.state.step, b.state.step);
  auto pb = b.model->named_parameters();
  double diff = 0, scale = 0;
  for (const auto& p : a.model->named_parameters()) {
    diff = std::max(diff, (p.value() - pb[p.key()]).abs().max().item<double>());
    scale = std::max(scale, p.value().abs().max().item<double>());
  }
  return {diff, scale};
}

class DataParallel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    make_reversal_corpus(*dir_ / "train.src", *dir_ / "train.tgt", 400, 21);
    // The reference: one process, two batches per update (accum_steps 2), 12 updates.
    single_ = new test::RunResult(run_gnmt(train_args(*dir_, *dir_ / "single", "--set training.accum_steps=2 --set training.max_steps=12")));
  }
  static void TearDownTestSuite() { delete single_; delete dir_; }
  static TempDir* dir_;
  static test::RunResult* single_;
};
TempDir* DataParallel::dir_ = nullptr;
test::RunResult* DataParallel::single_ = nullptr;

TEST_F(DataParallel, TwoGlooProcessesEqualOneProcessOnTheSameGlobalBatches) {
  const TempDir& d = *dir_;
  ASSERT_EQ(single_->exit_code, 0) << single_->output;
  // Small buckets (~50 kB; the model has 1.2 MB of weights) so that many are reduced while backward runs.
  auto ranks = run_ranks(d, 2, train_args(d, d / "ddp", "--set training.max_steps=12 --set training.bucket_mb=0.05"));
  ASSERT_EQ(ranks[0].exit_code, 0) << ranks[0].output;
  ASSERT_EQ(ranks[1].exit_code, 0) << ranks[1].output;
  EXPECT_NE(ranks[0].output.find("data-parallel training: 2 processes (gloo backend, launched by torchrun)"), std::string::npos)
      << ranks[0].output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ranks[0].output, m, std::regex("gradient buckets: ([0-9]+) of 0.05 MB, ([0-9]+) reduced while")))
      << ranks[0].output;
  EXPECT_GT(std::stoi(m[1]), 10);
  EXPECT_GT(std::stoi(m[2]), 0);  // overlapped with backward
  // Only rank 0 logs steps and writes files.
  EXPECT_TRUE(losses(ranks[1].output).empty()) << ranks[1].output;
  auto expected = losses(single_->output), got = losses(ranks[0].output);
  ASSERT_EQ(expected.size(), 12u) << single_->output;
  ASSERT_EQ(got.size(), 12u) << ranks[0].output;
  for (const auto& [step, loss] : expected) EXPECT_NEAR(got[step], loss, 1e-5 * loss) << "step " << step;
  // Same global batches (and dropout masks): the weights agree up to the order of float sums.
  auto [diff, scale] = max_weight_difference(d / "single/last.pt", d / "ddp/last.pt");
  EXPECT_LT(diff, 1e-4) << "largest weight " << scale;
  EXPECT_GT(scale, 0.1);
  EXPECT_EQ(load_checkpoint(d / "ddp/last.pt", torch::kCPU).state.world_size, 2);
}

TEST_F(DataParallel, ResumeOnAnotherNumberOfProcessesContinuesTheSameRun) {
  const TempDir& d = *dir_;
  ASSERT_EQ(single_->exit_code, 0) << single_->output;
  // 6 updates on two processes, then 6 more on one process with two batches per update: the same global
  // batches as the uninterrupted single-process reference.
  auto first = run_ranks(d, 2, train_args(d, d / "mixed", "--set training.max_steps=6"));
  ASSERT_EQ(first[0].exit_code, 0) << first[0].output;
  ASSERT_EQ(first[1].exit_code, 0) << first[1].output;
  auto second = run_gnmt(train_args(d, d / "mixed", "--set training.accum_steps=2 --set training.max_steps=12 --resume"));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("resume: 1 process(es) now, 2 before"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("resume: config changed: training.accum_steps: 1 -> 2"), std::string::npos) << second.output;
  auto expected = losses(single_->output), got = losses(second.output);
  ASSERT_EQ(got.size(), 6u) << second.output;
  for (const auto& [step, loss] : got) EXPECT_NEAR(loss, expected[step], 1e-5 * loss) << "step " << step;
  auto [diff, scale] = max_weight_difference(d / "single/last.pt", d / "mixed/last.pt");
  EXPECT_LT(diff, 1e-4) << "largest weight " << scale;
}

TEST_F(DataParallel, RankWithoutRendezvousAddressIsRefused) {
  const TempDir& d = *dir_;
  // With WORLD_SIZE but no MASTER_ADDR, one line and exit code 2 before anything is written.
  std::string cmd = "env -u MASTER_ADDR WORLD_SIZE=2 RANK=1 " GNMT_BINARY " train --config " GNMT_SOURCE_DIR
                    "/configs/tiny.yaml --set data.train_src=" + (d / "train.src") + " --set data.train_tgt=" + (d / "train.tgt") +
                    " --set run_dir=" + (d / "never2") + " > " + (d / "noaddr.log") + " 2>&1";
  int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(read_text(d / "noaddr.log").find("environment variable MASTER_ADDR: required with WORLD_SIZE=2"), std::string::npos)
      << read_text(d / "noaddr.log");
  EXPECT_FALSE(fs::exists(d / "never2"));
}

// Launched as PyTorch jobs are: torchrun (from the torch install scripts/setup.sh made) runs gnmt itself.
TEST_F(DataParallel, TorchrunLaunchesGnmtLikeAPyTorchJob) {
  const TempDir& d = *dir_;
  const char* deps = std::getenv("GNMT_DEPS");
  const std::string torchrun = std::string(deps ? deps : "/opt/gnmt-deps") + "/venv/bin/torchrun";
  if (!fs::exists(torchrun)) GTEST_SKIP() << torchrun << " not found";
  ASSERT_EQ(single_->exit_code, 0) << single_->output;
  auto r = test::run_command("OMP_NUM_THREADS=1 " + torchrun + " --standalone --nproc_per_node 2 --no-python " GNMT_BINARY " " +
                             train_args(d, d / "torchrun", "--set training.max_steps=12"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("data-parallel training: 2 processes (gloo backend, launched by torchrun)"), std::string::npos) << r.output;
  auto expected = losses(single_->output), got = losses(r.output);
  ASSERT_EQ(got.size(), 12u) << r.output;
  for (const auto& [step, loss] : expected) EXPECT_NEAR(got[step], loss, 1e-5 * loss) << "step " << step;
}

TEST_F(DataParallel, FailedSetupOnRankZeroStopsEveryRankAtOnce) {
  const TempDir& d = *dir_;
  test::write_text(d / "not_a_dir", "x\n");  // run_dir is a file: rank 0 cannot create it
  auto ranks = run_ranks(d, 2, train_args(d, d / "not_a_dir", "--set training.max_steps=2"));
  EXPECT_EQ(ranks[0].exit_code, 2) << ranks[0].output;
  EXPECT_NE(ranks[0].output.find("run_dir " + (d / "not_a_dir") + ": cannot create or write to it"), std::string::npos) << ranks[0].output;
  EXPECT_EQ(ranks[1].exit_code, 1) << ranks[1].output;
  EXPECT_NE(ranks[1].output.find("rank 0 failed to set up the run (see its log); stopping"), std::string::npos) << ranks[1].output;
  EXPECT_EQ(test::read_text(d / "not_a_dir"), "x\n");
}

TEST(DistributedEnvTest, ReadsTorchrunAndSlurmVariablesAndRejectsBadOnes) {
  auto with_env = [](const std::map<std::string, std::string>& vars, auto&& fn) {
    for (const char* v : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID"})
      unsetenv(v);
    for (const auto& [k, v] : vars) setenv(k.c_str(), v.c_str(), 1);
    fn();
    for (const auto& [k, v] : vars) unsetenv(k.c_str());
  };
  with_env({}, [] {
    auto e = DistributedEnv::from_environment();
    EXPECT_EQ(e.world_size, 1);
    EXPECT_EQ(e.launcher, "none");
  });
  with_env({{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "1234"}}, [] {
    auto e = DistributedEnv::from_environment();
    EXPECT_EQ(e.world_size, 4);
    EXPECT_EQ(e.rank, 3);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.master_addr, "node7");
    EXPECT_EQ(e.master_port, 1234);
    EXPECT_EQ(e.launcher, "torchrun");
    EXPECT_EQ(device_for_rank("cpu", e), "cpu");
  });
  with_env({{"SLURM_NTASKS", "8"}, {"SLURM_PROCID", "5"}, {"SLURM_LOCALID", "2"}, {"MASTER_ADDR", "n1"}}, [] {
    auto e = DistributedEnv::from_environment();
    EXPECT_EQ(e.world_size, 8);
    EXPECT_EQ(e.rank, 5);
    EXPECT_EQ(e.local_rank, 2);
    EXPECT_EQ(e.master_port, 29500);
    EXPECT_EQ(e.launcher, "slurm");
  });
  auto expect_error = [&](const std::map<std::string, std::string>& vars, const std::string& message) {
    with_env(vars, [&] {
      try {
        DistributedEnv::from_environment();
        ADD_FAILURE() << "no error for " << message;
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
      }
    });
  };
  expect_error({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "a"}}, "environment variable RANK=2: must be below WORLD_SIZE=2");
  expect_error({{"WORLD_SIZE", "two"}}, "environment variable WORLD_SIZE='two': expected an integer >= 1");
  expect_error({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "70000"}}, "MASTER_PORT");
  expect_error({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}}, "environment variable RANK: required when WORLD_SIZE=2");
}

TEST(KeepBest, KeepsTheBestNCheckpointsByTheMetricAndTheLastOnes) {
  TempDir d;
  make_reversal_corpus(d / "train.src", d / "train.tgt", 200, 31);
  make_reversal_corpus(d / "valid.src", d / "valid.tgt", 20, 32);
  auto r = run_gnmt(train_args(d, d / "run", "--set data.valid_src=" + (d / "valid.src") + " --set data.valid_tgt=" +
                                                 (d / "valid.tgt") + " --set training.valid_every=2 --set training.best_metric=xent"
                                                 " --set training.keep_best=2 --set training.keep_last=1 --set training.save_every=0"
                                                 " --set training.valid_bleu_lines=0 --set training.max_steps=14 --set training.lr=0.02"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto last = load_checkpoint(d / "run/last.pt", torch::kCPU);
  // The two lowest validation cross-entropies, by hand from the history.
  std::regex re("step=([0-9]+) valid_xent=([0-9.]+)");
  std::vector<std::pair<double, int>> by_xent;
  for (std::sregex_iterator it(last.state.history.begin(), last.state.history.end(), re), end; it != end; ++it)
    by_xent.emplace_back(std::stod((*it)[2]), std::stoi((*it)[1]));
  ASSERT_EQ(by_xent.size(), 7u) << last.state.history;
  std::stable_sort(by_xent.begin(), by_xent.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::set<std::string> want = {"ckpt-14.pt", "ckpt-" + std::to_string(by_xent[0].second) + ".pt",
                                "ckpt-" + std::to_string(by_xent[1].second) + ".pt"};
  std::set<std::string> have;
  for (const auto& e : fs::directory_iterator(d / "run"))
    if (e.path().filename().string().rfind("ckpt-", 0) == 0) have.insert(e.path().filename().string());
  EXPECT_EQ(have, want) << last.state.history << "\nbest list: " << last.state.best_steps;
  EXPECT_EQ(load_checkpoint(d / "run/best.pt", torch::kCPU).state.step, by_xent[0].second);
  auto info = run_gnmt("info " + (d / "run/last.pt"));
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("best checkpoints (step:score, best first): " + std::to_string(by_xent[0].second) + ":-"),
            std::string::npos) << info.output;
}

TEST(MixedPrecision, AutocastScopeCastsMatrixProductsOnlyInside) {
  auto a = torch::randn({4, 8}), b = torch::randn({8, 3});
  {
    AutocastScope scope("bf16", torch::Device(torch::kCPU));
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat);
  {
    AutocastScope scope("fp32", torch::Device(torch::kCPU));
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat);
  }
}

TEST(MixedPrecision, LossScalerHalvesOnOverflowAndGrowsAfterGoodSteps) {
  LossScaler s;
  s.enabled = true;
  s.scale = 1024;
  s.growth_interval = 3;
  EXPECT_FALSE(s.update(false));
  EXPECT_EQ(s.scale, 512);
  EXPECT_TRUE(s.update(true));
  EXPECT_TRUE(s.update(true));
  EXPECT_EQ(s.scale, 512);
  EXPECT_TRUE(s.update(true));  // third good step in a row: doubles
  EXPECT_EQ(s.scale, 1024);
  EXPECT_EQ(s.good_steps, 0);
  EXPECT_TRUE(s.update(true));
  EXPECT_FALSE(s.update(false));  // an overflow resets the count
  EXPECT_EQ(s.scale, 512);
  EXPECT_EQ(s.good_steps, 0);
  LossScaler off;  // bf16/fp32: never scales, but still reports non-finite steps
  EXPECT_FALSE(off.update(false));
  EXPECT_TRUE(off.update(true));
}

TEST(MixedPrecision, Bf16TrainingOnCpuLearnsAndFp16OnCpuIsRefused) {
  TempDir d;
  make_reversal_corpus(d / "train.src", d / "train.tgt", 300, 41);
  auto r = run_gnmt(train_args(d, d / "bf16", "--set training.precision=bf16 --set training.max_steps=60 --set training.lr=0.01"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("bf16 precision"), std::string::npos) << r.output;
  auto l = losses(r.output);
  ASSERT_EQ(l.size(), 60u) << r.output;
  double first = (l[1] + l[2] + l[3]) / 3, last = (l[58] + l[59] + l[60]) / 3;
  EXPECT_LT(last, 0.8 * first) << "bf16 training did not learn";
  // The weights stay fp32 (master weights).
  for (const auto& p : load_checkpoint(d / "bf16/last.pt", torch::kCPU).model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);

  auto bad = run_gnmt(train_args(d, d / "fp16", "--set training.precision=fp16 --set training.max_steps=2"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("config key 'training.precision': fp16 needs a CUDA device"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(d / "fp16"));
}

}  // namespace
}  // namespace gnmt
