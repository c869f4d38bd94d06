#pragma once
// Typed configuration. A YAML file (plus --set overrides) becomes these structs; every field carries its
// default. One mechanism (each struct's visit()) drives loading, unknown-key detection, --set and dumping.
#include <cstdint>
#include <string>
#include <vector>

namespace gnmt {

struct ModelOptions {
  int64_t vocab_size = 8000;        // shared source/target SentencePiece vocabulary size
  int64_t emb_dim = 256;            // embedding width
  int64_t hidden_size = 256;        // LSTM width (each direction of the bidirectional bottom encoder layer)
  int64_t enc_layers = 4;           // encoder LSTM layers; the bottom one is bidirectional
  int64_t dec_layers = 4;           // decoder LSTM layers
  int64_t residual_start = 3;       // first layer (1-based) with a residual x + f(x); > layers = plain stack
  double dropout = 0.2;             // dropout on embeddings and between LSTM layers
  bool share_embeddings = true;     // one embedding table for source and target
  bool tie_output = true;           // output projection shares the target embedding matrix
  template <class V> void visit(V&& v) {
    v("vocab_size", vocab_size); v("emb_dim", emb_dim); v("hidden_size", hidden_size);
    v("enc_layers", enc_layers); v("dec_layers", dec_layers); v("residual_start", residual_start);
    v("dropout", dropout); v("share_embeddings", share_embeddings); v("tie_output", tie_output);
  }
};

struct DataOptions {
  std::string train_src;            // training source text, one sentence per line
  std::string train_tgt;            // training target text, aligned with train_src
  std::string valid_src;            // validation source (optional)
  std::string valid_tgt;            // validation target (optional)
  std::string spm_model;            // existing SentencePiece model; empty = train one into the run dir
  double spm_character_coverage = 1.0;  // SentencePiece character coverage
  int64_t spm_input_sentence_size = 200000;  // sentences sampled to train SentencePiece
  int64_t max_len = 100;            // training pairs with more subword tokens on either side are skipped
  template <class V> void visit(V&& v) {
    v("train_src", train_src); v("train_tgt", train_tgt); v("valid_src", valid_src); v("valid_tgt", valid_tgt);
    v("spm_model", spm_model); v("spm_character_coverage", spm_character_coverage);
    v("spm_input_sentence_size", spm_input_sentence_size); v("max_len", max_len);
  }
};

struct TrainingOptions {
  int64_t seed = 1234;              // seed for initialisation, shuffling and dropout
  int64_t batch_tokens = 4096;      // target+source subword tokens per batch (length-bucketed)
  int64_t max_steps = 0;            // stop after this many updates (0 = no limit)
  int64_t max_epochs = 0;           // stop after this many epochs (0 = no limit)
  double max_minutes = 0;           // stop after this much training time (0 = no limit)
  double lr = 2e-3;                 // peak Adam learning rate
  int64_t warmup_steps = 200;       // linear warmup steps
  std::string decay = "rsqrt";      // after warmup: rsqrt (lr*sqrt(warmup/step)) | none
  double adam_beta1 = 0.9;          // Adam beta1
  double adam_beta2 = 0.998;        // Adam beta2
  double clip_norm = 5.0;           // gradient L2 norm clipping (0 = off)
  double label_smoothing = 0.1;     // label smoothing epsilon
  int64_t log_every = 50;           // log a line every N steps
  int64_t valid_every = 1000;       // validate every N steps (0 = only at the end)
  int64_t save_every = 1000;        // checkpoint every N steps (0 = only at the end)
  int64_t keep_last = 3;            // keep the newest N step checkpoints (best and last are kept too)
  int64_t valid_bleu_lines = 500;   // validation lines translated (greedy) for BLEU (0 = skip BLEU)
  int64_t threads = 0;              // CPU threads for torch (0 = all cores)
  std::string best_metric = "bleu"; // best.pt and early stopping follow: bleu (higher) | xent (lower)
  int64_t early_stop = 0;           // stop after N validations in a row without a new best (0 = off)
  double ema_decay = 0;             // exponential moving average of the weights, used for validation (0 = off)
  int64_t keep_best = 1;            // also keep the N best checkpoints by best_metric (best.pt = the best one)
  int64_t accum_steps = 1;          // batches per update on each process: global batch = ranks x accum x batch
  double bucket_mb = 25;            // data-parallel: gradients are summed over processes in buckets of this size
  std::string precision = "fp32";   // fp32 | bf16 (autocast) | fp16 (autocast + dynamic loss scaling, CUDA)
  int64_t max_bad_steps = 5;        // stop after N steps in a row with a NaN/inf loss or gradient norm (each is skipped)
  template <class V> void visit(V&& v) {
    v("seed", seed); v("batch_tokens", batch_tokens); v("max_steps", max_steps); v("max_epochs", max_epochs);
    v("max_minutes", max_minutes); v("lr", lr); v("warmup_steps", warmup_steps); v("decay", decay);
    v("adam_beta1", adam_beta1); v("adam_beta2", adam_beta2); v("clip_norm", clip_norm);
    v("label_smoothing", label_smoothing); v("log_every", log_every); v("valid_every", valid_every);
    v("save_every", save_every); v("keep_last", keep_last); v("valid_bleu_lines", valid_bleu_lines);
    v("threads", threads); v("best_metric", best_metric); v("early_stop", early_stop); v("ema_decay", ema_decay);
    v("keep_best", keep_best); v("accum_steps", accum_steps); v("precision", precision);
    v("bucket_mb", bucket_mb);
    v("max_bad_steps", max_bad_steps);
  }
};

struct DecodingOptions {
  int64_t beam = 5;                 // beam size (1 = greedy)
  double alpha = 0.6;               // GNMT length normalisation ((5+|Y|)/6)^alpha (0 = off)
  double beta = 0.2;                // GNMT coverage penalty weight (0 = off)
  double max_len_ratio = 2.0;       // output length limit: max_len_ratio * source length + 10
  int64_t batch_size = 64;          // sentences translated together
  template <class V> void visit(V&& v) {
    v("beam", beam); v("alpha", alpha); v("beta", beta); v("max_len_ratio", max_len_ratio);
    v("batch_size", batch_size);
  }
};

struct Config {
  ModelOptions model;
  DataOptions data;
  TrainingOptions training;
  DecodingOptions decoding;
  std::string run_dir = "runs/default";  // checkpoints, logs, tokenizer and the resolved config go here
  std::string device = "auto";           // auto | cpu | cuda | cuda:N
};

// Loads `path`, then applies each "section.key=value" of `overrides` in order, then validates.
// Throws gnmt::Error naming the file, line, column and key on any problem.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Parses YAML text (used for configs stored in checkpoints). `origin` names the source in messages.
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides = {});

// Checks ranges and consistency; throws gnmt::Error naming the key.
void validate(const Config& config);

// The resolved config as YAML, every key present.
std::string dump_config(const Config& config);

// Lists differences "key: old -> new" between two configs (for reporting changes on resume).
std::vector<std::string> diff_configs(const Config& a, const Config& b);

}  // namespace gnmt
