// The files gnmt bench shares with scripts/bench/reference_gnmt.py, and `gnmt bench --batches` end to end.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>

#include "cli/bench_files.h"
#include "common/error.h"
#include "models/model.h"
#include "test_util.h"

namespace gnmt {
namespace {

using test::TempDir;

ParallelCorpus three_pairs() {
  ParallelCorpus c;
  c.src = {{5, 6, 7}, {8}, {9, 10}};
  c.tgt = {{11, 12}, {13, 14, 15}, {16}};
  return c;
}

TEST(BenchFiles, BatchesRoundTripWithOptionsHeader) {
  TempDir d;
  Config cfg;
  cfg.model.hidden_size = 48;
  cfg.training.label_smoothing = 0.25;
  write_batches(d / "b.txt", cfg, three_pairs(), {{2, 0}, {1}});
  auto text = test::read_text(d / "b.txt");
  EXPECT_NE(text.find("# model vocab_size=8000 emb_dim=256 hidden_size=48 "), std::string::npos) << text;
  EXPECT_NE(text.find(" label_smoothing=0.25 "), std::string::npos) << text;
  EXPECT_NE(text.find("batch 2\n9 10\t16\n5 6 7\t11 12\nbatch 1\n8\t13 14 15\n"), std::string::npos) << text;
  auto f = read_batches(d / "b.txt");
  ASSERT_EQ(f.batches.size(), 2u);
  EXPECT_EQ(f.batches[0], (std::vector<size_t>{0, 1}));
  EXPECT_EQ(f.batches[1], (std::vector<size_t>{2}));
  EXPECT_EQ(f.corpus.src[0], (std::vector<int64_t>{9, 10}));
  EXPECT_EQ(f.corpus.tgt[1], (std::vector<int64_t>{11, 12}));
  EXPECT_EQ(f.corpus.tgt[2], (std::vector<int64_t>{13, 14, 15}));
}

TEST(BenchFiles, MalformedBatchesNameFileAndLine) {
  TempDir d;
  auto expect_error = [&](const std::string& text, const std::string& what) {
    test::write_text(d / "b.txt", text);
    try {
      read_batches(d / "b.txt");
      ADD_FAILURE() << "no error for: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error("# model x=1\nbatch 1\n5 6 7\n", "b.txt:3: expected 'source ids<TAB>target ids'");
  expect_error("batch 2\n5\t6\n", "b.txt:1: batch of 2 sentences but the file ends first");
  expect_error("bunch 1\n5\t6\n", "b.txt:1: expected 'batch N'");
  expect_error("batch 1\n5 x\t6\n", "b.txt:2: expected non-negative token ids, got 'x'");
  expect_error("# only a header\n", "no batches");
}

TEST(BenchFiles, IdsAndWeightsFiles) {
  TempDir d;
  write_ids(d / "ids.txt", Config(), {{4, 5}, {}, {6}});
  EXPECT_EQ(read_ids(d / "ids.txt"), (std::vector<std::vector<int64_t>>{{4, 5}, {}, {6}}));

  torch::nn::Linear lin(torch::nn::LinearOptions(3, 2));
  {
    torch::NoGradGuard ng;
    lin->weight.copy_(torch::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}}));
    lin->bias.copy_(torch::tensor({-1.f, 0.5f}));
  }
  write_weights(d / "w.bin", *lin);
  const std::string bytes = test::read_text(d / "w.bin");
  // "GNMTW1\n", count 2, then "weight": name length 6, 2 dims (2, 3), six floats; then "bias".
  ASSERT_EQ(bytes.size(), 7u + 8 + (4 + 6 + 4 + 16 + 24) + (4 + 4 + 4 + 8 + 8));
  EXPECT_EQ(bytes.substr(0, 7), "GNMTW1\n");
  uint64_t count = 0;
  std::memcpy(&count, bytes.data() + 7, 8);
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(bytes.substr(19, 6), "weight");
  int64_t dims[2];
  std::memcpy(dims, bytes.data() + 29, 16);
  EXPECT_EQ(dims[0], 2);
  EXPECT_EQ(dims[1], 3);
  float w[6];
  std::memcpy(w, bytes.data() + 45, 24);
  EXPECT_EQ(w[5], 6.f);
  float b[2];
  std::memcpy(b, bytes.data() + bytes.size() - 8, 8);
  EXPECT_EQ(b[0], -1.f);
  EXPECT_EQ(b[1], 0.5f);
}

TEST(BenchCli, TrainsOnABatchesFileAndReportsParametersAndMfu) {
  TempDir d;
  Config cfg = load_config(GNMT_SOURCE_DIR "/configs/tiny.yaml");
  ParallelCorpus c;
  std::vector<std::vector<size_t>> batches;
  for (size_t b = 0; b < 3; ++b) {
    batches.emplace_back();
    for (int64_t k = 0; k < 4; ++k) {
      batches.back().push_back(c.size());
      c.src.push_back({5 + k, 6, 7 + static_cast<int64_t>(b)});
      c.tgt.push_back({7 + static_cast<int64_t>(b), 6, 5 + k, 9});
    }
  }
  write_batches(d / "b.txt", cfg, c, batches);
  auto r = test::run_gnmt("bench -c " GNMT_SOURCE_DIR "/configs/tiny.yaml --batches " + (d / "b.txt") +
                          " --warmup 1 --gemm-size 64");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const int64_t params = GnmtModel(cfg.model, cfg.model.vocab_size)->parameter_count();
  EXPECT_NE(r.output.find("result parameters " + std::to_string(params) + "\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 timed batches (1 warm-up), 40 target tokens"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("result mfu_percent "), std::string::npos) << r.output;

  auto bad = test::run_gnmt("bench --batches " + (d / "b.txt"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("gnmt bench needs -c CONFIG"), std::string::npos) << bad.output;
  auto none = test::run_gnmt("bench -c " GNMT_SOURCE_DIR "/configs/tiny.yaml --batches " + (d / "b.txt") + " --warmup 3");
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("3 batches, but --warmup 3 leaves none to time"), std::string::npos) << none.output;
}

}  // namespace
}  // namespace gnmt
