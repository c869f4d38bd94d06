// Config loading: defaults, overrides, and one clear message for each kind of mistake.
#include <gtest/gtest.h>

#include "common/error.h"
#include "config/config.h"
#include "test_util.h"

namespace gnmt {
namespace {

std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(yaml, "cfg.yaml", overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsAndValues) {
  auto c = parse_config("model:\n  hidden_size: 64\n  emb_dim: 64\ntraining:\n  lr: 0.01\n", "cfg.yaml");
  EXPECT_EQ(c.model.hidden_size, 64);
  EXPECT_EQ(c.model.enc_layers, 4);  // default kept
  EXPECT_DOUBLE_EQ(c.training.lr, 0.01);
  EXPECT_EQ(c.model.residual_start, 3);
}

TEST(Config, SetOverridesAnyKey) {
  auto c = parse_config("model:\n  dropout: 0.3\n", "cfg.yaml",
                        {"model.dropout=0.1", "training.max_steps=7", "device=cpu", "data.train_src=a b.txt", "data.train_tgt=b.txt",
                         "model.tie_output=false"});
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.1);
  EXPECT_EQ(c.training.max_steps, 7);
  EXPECT_EQ(c.device, "cpu");
  EXPECT_EQ(c.data.train_src, "a b.txt");
  EXPECT_FALSE(c.model.tie_output);
}

TEST(Config, UnknownKeyNamesKeyFileLineAndSuggestion) {
  auto e = error_of("model:\n  hiden_size: 3\n");
  EXPECT_NE(e.find("cfg.yaml:2:3"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'model.hiden_size'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'hidden_size'"), std::string::npos) << e;
  EXPECT_NE(error_of("modle:\n  x: 1\n").find("did you mean 'model'"), std::string::npos);
  EXPECT_NE(error_of("model:\n", {"training.lrr=1"}).find("unknown key 'training.lrr'"), std::string::npos);
  // A key of another section, or a section key given without its section, names where it belongs.
  EXPECT_NE(error_of("training:\n  vocab_size: 100\n").find("unknown key 'training.vocab_size' (did you mean 'model.vocab_size'?)"),
            std::string::npos) << error_of("training:\n  vocab_size: 100\n");
  EXPECT_NE(error_of("model:\n", {"lr=0.1"}).find("unknown key 'lr' (did you mean 'training.lr'?)"), std::string::npos)
      << error_of("model:\n", {"lr=0.1"});
}

TEST(Config, WrongTypeNamesKeyAndExpectedType) {
  auto e = error_of("model:\n  enc_layers: four\n");
  EXPECT_NE(e.find("cfg.yaml:2:15"), std::string::npos) << e;
  EXPECT_NE(e.find("'model.enc_layers' expects an integer, got 'four'"), std::string::npos) << e;
  EXPECT_NE(error_of("model:\n  tie_output: 3\n").find("expects true or false"), std::string::npos);
  EXPECT_NE(error_of("training:\n  lr: [1, 2]\n").find("'training.lr' expects a number"), std::string::npos);
}

TEST(Config, SyntaxErrorHasLineAndColumn) {
  auto e = error_of("model:\n  hidden_size: [1, 2\n");
  EXPECT_NE(e.find("cfg.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
}

TEST(Config, OutOfRangeValuesAreRejected) {
  EXPECT_NE(error_of("model:\n  dropout: 1.0\n").find("'model.dropout'"), std::string::npos);
  EXPECT_NE(error_of("model:\n  residual_start: 0\n").find("'model.residual_start'"), std::string::npos);
  EXPECT_NE(error_of("model:\n  dec_layers: -1\n").find("'model.dec_layers'"), std::string::npos);
  EXPECT_NE(error_of("decoding:\n  beam: 0\n").find("'decoding.beam'"), std::string::npos);
  EXPECT_NE(error_of("device: gpu\n").find("'device'"), std::string::npos);
  EXPECT_NE(error_of("model:\n  emb_dim: 10\n").find("'model.tie_output'"), std::string::npos);
}

TEST(Config, EmptyFileIsAnError) {
  EXPECT_NE(error_of("").find("config is empty"), std::string::npos);
  EXPECT_NE(error_of("# only a comment\n").find("config is empty"), std::string::npos);
}

TEST(Config, DumpRoundTripsAndDiffReportsChanges) {
  auto c = parse_config("model:\n  hidden_size: 32\n  emb_dim: 32\nrun_dir: runs/x\n", "cfg.yaml");
  auto again = parse_config(dump_config(c), "dump");
  EXPECT_EQ(dump_config(again), dump_config(c));
  again.training.lr = 0.5;
  auto d = diff_configs(c, again);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], "training.lr: 0.002 -> 0.5");
}

TEST(Config, ShippedConfigsLoad) {
  for (const char* name : {"gnmt.yaml", "bible-small.yaml", "tiny.yaml"}) {
    auto c = load_config(std::string(GNMT_SOURCE_DIR) + "/configs/" + name);
    EXPECT_GE(c.model.enc_layers, 2) << name;
  }
  auto paper = load_config(std::string(GNMT_SOURCE_DIR) + "/configs/gnmt.yaml");
  EXPECT_EQ(paper.model.enc_layers, 8);
  EXPECT_EQ(paper.model.hidden_size, 1024);
  EXPECT_EQ(paper.model.vocab_size, 32000);
}

TEST(Config, MissingFileIsAnError) {
  try {
    load_config("/nonexistent/x.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.yaml: no such file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gnmt
