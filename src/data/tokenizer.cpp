#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "eval/text_io.h"

namespace gnmt {

void Tokenizer::train(const std::vector<std::string>& files, const TokenizerTrainOptions& o,
                      const std::string& model_path) {
  // SentencePiece reads the text as read_text_lines does for training and translation: UTF-8 checked (an
  // error names the file and line before any training), BOM and '\r' of Windows line endings removed.
  std::vector<std::vector<std::string>> lines;
  std::string names;
  for (const auto& f : files) {
    require_readable_file(f, "tokenizer training file");
    lines.push_back(read_text_lines(f));
    names += (names.empty() ? "" : ", ") + f;
  }
  std::vector<const std::vector<std::string>*> texts;
  for (const auto& l : lines) texts.push_back(&l);
  train(texts, names, o, model_path);
}

void Tokenizer::train(const std::vector<const std::vector<std::string>*>& texts, const std::string& names,
                      const TokenizerTrainOptions& o, const std::string& model_path) {
  std::string text;
  for (const auto* lines : texts)
    for (const auto& line : *lines) text.append(line).push_back('\n');
  if (text.find_first_not_of(" \t\n") == std::string::npos) throw Error("cannot train SentencePiece on " + names + ": no text (the files are empty or blank)");
  std::string prefix = model_path + ".training";
  const std::string input = prefix + ".txt";
  write_file_atomically(input, text);
  struct Remove { std::string p; ~Remove() { std::error_code ec; std::filesystem::remove(p, ec); } } remove_input{input};
  sentencepiece::SetRandomGeneratorSeed(o.seed);
  std::string args = "--input=" + input + " --model_prefix=" + prefix + " --model_type=unigram" +
                     " --vocab_size=" + std::to_string(o.vocab_size) +
                     " --character_coverage=" + std::to_string(o.character_coverage) +
                     " --input_sentence_size=" + std::to_string(o.input_sentence_size) +
                     " --shuffle_input_sentence=true --hard_vocab_limit=false --num_threads=2" +
                     " --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 --minloglevel=1";
  auto status = sentencepiece::SentencePieceTrainer::Train(args);
  if (!status.ok()) throw Error("SentencePiece training failed on " + names + ": " + status.ToString());
  std::string bytes = read_file(prefix + ".model");
  std::filesystem::remove(prefix + ".model");
  std::filesystem::remove(prefix + ".vocab");
  write_file_atomically(model_path, bytes);
}

Tokenizer Tokenizer::from_serialized(const std::string& bytes, const std::string& origin) {
  Tokenizer t;
  t.sp_ = std::make_shared<sentencepiece::SentencePieceProcessor>();
  auto status = t.sp_->LoadFromSerializedProto(bytes);
  if (!status.ok()) throw Error(origin + ": not a valid SentencePiece model: " + status.ToString());
  if (t.sp_->pad_id() != kPad || t.sp_->unk_id() != kUnk || t.sp_->bos_id() != kBos || t.sp_->eos_id() != kEos)
    throw Error(origin + ": SentencePiece model must use pad=0 unk=1 bos=2 eos=3 (train it with gnmt)");
  t.serialized_ = bytes;
  return t;
}

Tokenizer Tokenizer::load(const std::string& model_path) {
  require_readable_file(model_path, "SentencePiece model");
  return from_serialized(read_file(model_path), model_path);
}

std::vector<int64_t> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  sp_->Encode(text, &ids);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> v;
  v.reserve(ids.size());
  for (auto id : ids)
    if (id > kEos) v.push_back(static_cast<int>(id));
  std::string out;
  sp_->Decode(v, &out);
  return out;
}

int64_t Tokenizer::vocab_size() const { return sp_->GetPieceSize(); }

}  // namespace gnmt
