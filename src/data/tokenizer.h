#pragma once
// SentencePiece tokenizer shared by source and target. Ids 0..3 are reserved: pad, unk, bos, eos.
// The serialized model travels inside every checkpoint, so a checkpoint alone can translate.
#include <memory>
#include <string>
#include <vector>

namespace sentencepiece { class SentencePieceProcessor; }

namespace gnmt {

struct TokenizerTrainOptions {
  int64_t vocab_size = 8000;                 // target vocabulary size (may shrink on tiny corpora)
  double character_coverage = 1.0;           // fraction of characters covered by the vocabulary
  int64_t input_sentence_size = 200000;      // sentences sampled for training (0 = all)
  uint32_t seed = 1234;                      // sampling seed
};

class Tokenizer {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1, kBos = 2, kEos = 3;

  // Trains a unigram model on the lines of `files` and writes `model_path` (atomically).
  static void train(const std::vector<std::string>& files, const TokenizerTrainOptions& options,
                    const std::string& model_path);
  // The same on lines already read (as read_text_lines gives them); `origin` names them in errors.
  static void train(const std::vector<const std::vector<std::string>*>& texts, const std::string& origin,
                    const TokenizerTrainOptions& options, const std::string& model_path);
  static Tokenizer load(const std::string& model_path);            // gnmt::Error names the file on failure
  static Tokenizer from_serialized(const std::string& bytes, const std::string& origin);

  std::vector<int64_t> encode(const std::string& text) const;      // no bos/eos added
  std::string decode(const std::vector<int64_t>& ids) const;       // stops at nothing: pass ids without eos
  int64_t vocab_size() const;
  const std::string& serialized() const { return serialized_; }

 private:
  std::shared_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string serialized_;
};

}  // namespace gnmt
