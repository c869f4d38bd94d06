#include "cli/bench_files.h"

#include <cstring>
#include <sstream>

#include "common/error.h"
#include "common/fs.h"
#include "eval/text_io.h"

namespace gnmt {
namespace {

template <class Options> std::string header_line(const std::string& section, Options options) {
  std::ostringstream out;
  out << "# " << section;
  options.visit([&](const auto& key, const auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (!std::is_same_v<T, std::string>) out << ' ' << key << '=' << value;
  });
  return out.str() + "\n";
}

std::string ids_text(const std::vector<int64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

std::vector<int64_t> parse_ids(const std::string& text, const std::string& path, size_t line) {
  std::vector<int64_t> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    int64_t id = -1;
    try { id = std::stoll(word, &used); } catch (const std::exception&) { used = 0; }
    if (used != word.size() || id < 0)
      throw Error(path + ":" + std::to_string(line) + ": expected non-negative token ids, got '" + word + "'");
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

std::string options_header(const Config& c) {
  return header_line("model", c.model) + header_line("training", c.training) + header_line("decoding", c.decoding);
}

void write_batches(const std::string& path, const Config& config, const ParallelCorpus& corpus,
                   const std::vector<std::vector<size_t>>& batches) {
  std::string text = options_header(config);
  for (const auto& b : batches) {
    text += "batch " + std::to_string(b.size()) + "\n";
    for (auto i : b) text += ids_text(corpus.src[i]) + "\t" + ids_text(corpus.tgt[i]) + "\n";
  }
  write_file_atomically(path, text);
}

BatchFile read_batches(const std::string& path) {
  auto lines = read_text_lines(path);
  BatchFile f;
  size_t i = 0;
  while (i < lines.size() && lines[i].rfind("#", 0) == 0) ++i;
  for (; i < lines.size(); ++i) {
    const std::string where = path + ":" + std::to_string(i + 1);
    size_t n = 0;
    if (lines[i].rfind("batch ", 0) != 0 || (n = std::strtoull(lines[i].c_str() + 6, nullptr, 10)) == 0)
      throw Error(where + ": expected 'batch N' with N >= 1, got '" + lines[i] + "'");
    if (i + n >= lines.size())
      throw Error(where + ": batch of " + std::to_string(n) + " sentences but the file ends first");
    std::vector<size_t> batch;
    for (size_t k = 1; k <= n; ++k) {
      const auto& line = lines[i + k];
      auto tab = line.find('\t');
      if (tab == std::string::npos)
        throw Error(path + ":" + std::to_string(i + k + 1) + ": expected 'source ids<TAB>target ids'");
      auto src = parse_ids(line.substr(0, tab), path, i + k + 1), tgt = parse_ids(line.substr(tab + 1), path, i + k + 1);
      if (src.empty() || tgt.empty())
        throw Error(path + ":" + std::to_string(i + k + 1) + ": empty source or target sentence");
      batch.push_back(f.corpus.size());
      f.corpus.src.push_back(std::move(src));
      f.corpus.tgt.push_back(std::move(tgt));
    }
    f.batches.push_back(std::move(batch));
    i += n;
  }
  if (f.batches.empty()) throw Error(path + ": no batches (expected lines 'batch N' followed by N sentence pairs)");
  return f;
}

void write_ids(const std::string& path, const Config& config, const std::vector<std::vector<int64_t>>& sentences) {
  std::string text = options_header(config);
  for (const auto& s : sentences) text += ids_text(s) + "\n";
  write_file_atomically(path, text);
}

std::vector<std::vector<int64_t>> read_ids(const std::string& path) {
  auto lines = read_text_lines(path);
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind("#", 0) != 0) out.push_back(parse_ids(lines[i], path, i + 1));
  return out;
}

void write_weights(const std::string& path, const torch::nn::Module& module) {
  std::string bytes = "GNMTW1\n";
  auto put = [&](const void* p, size_t n) { bytes.append(static_cast<const char*>(p), n); };
  auto params = module.named_parameters();
  const uint64_t count = params.size();
  put(&count, 8);
  for (const auto& p : params) {
    auto t = p.value().detach().to(torch::kCPU, torch::kFloat).contiguous();
    const uint32_t name_len = static_cast<uint32_t>(p.key().size()), dims = static_cast<uint32_t>(t.dim());
    put(&name_len, 4);
    put(p.key().data(), name_len);
    put(&dims, 4);
    for (auto s : t.sizes()) put(&s, 8);
    put(t.data_ptr<float>(), static_cast<size_t>(t.numel()) * sizeof(float));
  }
  write_file_atomically(path, bytes);
}

}  // namespace gnmt
