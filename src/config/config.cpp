#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>

#include "common/edit_distance.h"
#include "common/error.h"
#include "common/fs.h"

namespace gnmt {
namespace {

// "file:line:col: " for a node parsed from a file; "origin: " otherwise.
std::string where(const std::string& origin, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || origin.rfind("--set", 0) == 0) return origin + ": ";
  return origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

// "section.key" when `key` is a key of some section: a key put in the wrong section, or `--set lr=...`.
std::string home_of(const std::string& key) {
  Config c;
  std::string home;
  auto look = [&](auto& section, const char* name) {
    section.visit([&](const char* k, auto&) { if (home.empty() && key == k) home = std::string(name) + "." + k; });
  };
  look(c.model, "model");
  look(c.data, "data");
  look(c.training, "training");
  look(c.decoding, "decoding");
  return home;
}

std::string suggestion(const std::string& key, const std::vector<std::string>& valid) {
  const std::string home = home_of(key);
  return home.empty() ? did_you_mean(key, valid, "keys") : " (did you mean '" + home + "'?)";
}

template <class T> const char* type_name();
template <> const char* type_name<int64_t>() { return "an integer"; }
template <> const char* type_name<double>() { return "a number"; }
template <> const char* type_name<bool>() { return "true or false"; }
template <> const char* type_name<std::string>() { return "a string"; }

template <class T>
void assign(T& field, const YAML::Node& node, const std::string& key, const std::string& origin) {
  if (!node.IsScalar()) throw Error(where(origin, node.Mark()) + "key '" + key + "' expects " + type_name<T>());
  try {
    field = node.as<T>();
  } catch (const YAML::Exception&) {
    throw Error(where(origin, node.Mark()) + "key '" + key + "' expects " + type_name<T>() + ", got '" +
                node.Scalar() + "'");
  }
}

// A mapping key as text; a key that is itself a list or a mapping (`[a]: 1`, `{a: 1}: 2`) is refused.
std::string key_text(const YAML::Node& key, const std::string& origin) {
  if (!key.IsScalar()) throw Error(where(origin, key.Mark()) + "a key must be a plain name, not a list or a mapping");
  return key.Scalar();
}

// Applies a YAML map to an options struct, rejecting unknown keys.
template <class Section>
void load_section(Section& section, const YAML::Node& node, const std::string& name, const std::string& origin) {
  if (node.IsNull()) return;
  if (!node.IsMap()) throw Error(where(origin, node.Mark()) + "section '" + name + "' must be a mapping of keys");
  std::vector<std::string> valid;
  section.visit([&](const char* k, auto&) { valid.push_back(k); });
  for (const auto& kv : node) {
    std::string key = key_text(kv.first, origin);
    bool found = false;
    section.visit([&](const char* k, auto& field) {
      if (key == k) { assign(field, kv.second, name + "." + key, origin); found = true; }
    });
    if (!found)
      throw Error(where(origin, kv.first.Mark()) + "unknown key '" + name + "." + key + "'" + suggestion(key, valid));
  }
}

// What validate() throws: the message names the key; parse_config adds where the value came from.
class KeyError : public Error {
 public:
  KeyError(std::string key, const std::string& message) : Error(message), key(std::move(key)) {}
  std::string key;
};

// "file:line:col: " of the value of `key` ("section.name") in the YAML, "--set K=V: " when an override set it
// last, or just "origin: " when the value is a default that clashes with another key.
std::string origin_of(const std::string& key, const YAML::Node& root, const std::string& origin,
                      const std::vector<std::string>& overrides) {
  for (auto it = overrides.rbegin(); it != overrides.rend(); ++it)
    if (it->rfind(key + "=", 0) == 0) return "--set " + *it + ": ";
  // Lookups on const nodes only (operator= on a yaml-cpp node would rewrite the tree).
  const YAML::Node& r = root;
  const auto dot = key.find('.');
  auto find = [&]() -> YAML::Node {
    if (dot == std::string::npos) return r[key];
    const YAML::Node section = r[key.substr(0, dot)];
    return section.IsDefined() && section.IsMap() ? section[key.substr(dot + 1)] : YAML::Node();
  };
  const YAML::Node value = find();
  return value.IsDefined() && !value.IsNull() ? where(origin, value.Mark()) : origin + ": ";
}

const std::vector<std::string> kTopKeys = {"model", "data", "training", "decoding", "run_dir", "device"};

void apply_root(Config& c, const YAML::Node& root, const std::string& origin) {
  for (const auto& kv : root) {
    std::string key = key_text(kv.first, origin);
    if (key == "model") load_section(c.model, kv.second, key, origin);
    else if (key == "data") load_section(c.data, kv.second, key, origin);
    else if (key == "training") load_section(c.training, kv.second, key, origin);
    else if (key == "decoding") load_section(c.decoding, kv.second, key, origin);
    else if (key == "run_dir") assign(c.run_dir, kv.second, key, origin);
    else if (key == "device") assign(c.device, kv.second, key, origin);
    else throw Error(where(origin, kv.first.Mark()) + "unknown key '" + key + "'" + suggestion(key, kTopKeys));
  }
}

void apply_override(Config& c, const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--set " + text + ": expected section.key=value, e.g. --set training.lr=0.001");
  std::string path = text.substr(0, eq), value = text.substr(eq + 1);
  YAML::Node scalar;
  try {
    scalar = YAML::Load(value.empty() ? "''" : value);
  } catch (const YAML::Exception& e) {
    throw Error("--set " + text + ": cannot parse value: " + e.msg);
  }
  if (!scalar.IsScalar()) scalar = YAML::Node(value);
  YAML::Node root;
  auto dot = path.find('.');
  if (dot == std::string::npos) {
    root[path] = scalar;
  } else {
    root[path.substr(0, dot)][path.substr(dot + 1)] = scalar;
  }
  apply_root(c, root, "--set " + path);
}

template <class F>
void visit_all(Config& c, F&& f) {
  auto section = [&](const char* name, auto& s) {
    s.visit([&](const char* k, auto& field) { f(std::string(name) + "." + k, field); });
  };
  section("model", c.model);
  section("data", c.data);
  section("training", c.training);
  section("decoding", c.decoding);
  f("run_dir", c.run_dir);
  f("device", c.device);
}

template <class T> std::string to_text(const T& v) {
  YAML::Emitter e;
  e.SetDoublePrecision(15);
  e << v;
  return e.c_str();
}

}  // namespace

Config parse_config(const std::string& text, const std::string& origin, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw Error(where(origin, e.mark) + "YAML syntax error: " + e.msg);
  }
  if (root.IsNull()) throw Error(origin + ": config is empty; expected a mapping with model/data/training keys");
  if (!root.IsMap()) throw Error(where(origin, root.Mark()) + "config must be a mapping of sections");
  Config c;
  apply_root(c, root, origin);
  for (const auto& o : overrides) apply_override(c, o);
  try {
    validate(c);
  } catch (const KeyError& e) {
    throw Error(origin_of(e.key, root, origin, overrides) + e.what());
  }
  return c;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  require_readable_file(path, "config file");
  return parse_config(read_file(path), path, overrides);
}

void validate(const Config& c) {
  auto fail = [](const std::string& key, const std::string& what) { throw KeyError(key, "config key '" + key + "': " + what); };
  const auto& m = c.model;
  if (m.vocab_size < 16) fail("model.vocab_size", "must be at least 16");
  if (m.emb_dim < 1) fail("model.emb_dim", "must be positive");
  if (m.hidden_size < 1) fail("model.hidden_size", "must be positive");
  if (m.enc_layers < 2) fail("model.enc_layers", "must be at least 2 (bidirectional bottom layer + one more)");
  if (m.dec_layers < 1) fail("model.dec_layers", "must be at least 1");
  if (m.residual_start < 1) fail("model.residual_start", "must be at least 1");
  if (!(m.dropout >= 0 && m.dropout < 1)) fail("model.dropout", "must be in [0, 1)");
  if (m.tie_output && m.emb_dim != m.hidden_size)
    fail("model.tie_output", "needs model.emb_dim == model.hidden_size (or set tie_output: false)");
  const auto& d = c.data;
  if (d.max_len < 1) fail("data.max_len", "must be positive");
  if (!(d.spm_character_coverage > 0 && d.spm_character_coverage <= 1)) fail("data.spm_character_coverage", "must be in (0, 1]");
  if (d.spm_input_sentence_size < 0) fail("data.spm_input_sentence_size", "must be >= 0");
  if (d.train_src.empty() != d.train_tgt.empty()) fail("data.train_tgt", "train_src and train_tgt must be given together");
  if (d.valid_src.empty() != d.valid_tgt.empty()) fail("data.valid_tgt", "valid_src and valid_tgt must be given together");
  const auto& t = c.training;
  if (t.batch_tokens < 1) fail("training.batch_tokens", "must be positive");
  if (t.max_steps < 0) fail("training.max_steps", "must be >= 0");
  if (t.max_epochs < 0) fail("training.max_epochs", "must be >= 0");
  if (t.max_minutes < 0) fail("training.max_minutes", "must be >= 0");
  if (!(t.lr > 0)) fail("training.lr", "must be positive");
  if (t.warmup_steps < 0) fail("training.warmup_steps", "must be >= 0");
  if (t.decay != "rsqrt" && t.decay != "none") fail("training.decay", "expected rsqrt or none, got '" + t.decay + "'");
  if (!(t.adam_beta1 >= 0 && t.adam_beta1 < 1)) fail("training.adam_beta1", "must be in [0, 1)");
  if (!(t.adam_beta2 >= 0 && t.adam_beta2 < 1)) fail("training.adam_beta2", "must be in [0, 1)");
  if (t.clip_norm < 0) fail("training.clip_norm", "must be >= 0");
  if (!(t.label_smoothing >= 0 && t.label_smoothing < 1)) fail("training.label_smoothing", "must be in [0, 1)");
  if (t.log_every < 1) fail("training.log_every", "must be positive");
  if (t.valid_every < 0) fail("training.valid_every", "must be >= 0");
  if (t.save_every < 0) fail("training.save_every", "must be >= 0");
  if (t.keep_last < 1) fail("training.keep_last", "must be at least 1");
  if (t.valid_bleu_lines < 0) fail("training.valid_bleu_lines", "must be >= 0");
  if (t.threads < 0) fail("training.threads", "must be >= 0");
  if (t.best_metric != "bleu" && t.best_metric != "xent")
    fail("training.best_metric", "expected bleu or xent, got '" + t.best_metric + "'");
  if (t.early_stop < 0) fail("training.early_stop", "must be >= 0");
  if (!(t.ema_decay >= 0 && t.ema_decay < 1)) fail("training.ema_decay", "must be in [0, 1)");
  if (t.keep_best < 1) fail("training.keep_best", "must be at least 1");
  if (t.accum_steps < 1) fail("training.accum_steps", "must be at least 1");
  if (!(t.bucket_mb > 0)) fail("training.bucket_mb", "must be positive");
  if (t.precision != "fp32" && t.precision != "bf16" && t.precision != "fp16")
    fail("training.precision", "expected fp32, bf16 or fp16, got '" + t.precision + "'");
  if (t.precision == "fp16" && c.device == "cpu")
    fail("training.precision", "fp16 needs a CUDA device (device: cpu given); use bf16 or fp32 on CPU");
  if (t.max_bad_steps < 1) fail("training.max_bad_steps", "must be at least 1");
  const auto& b = c.decoding;
  if (b.beam < 1) fail("decoding.beam", "must be at least 1");
  if (b.alpha < 0) fail("decoding.alpha", "must be >= 0");
  if (b.beta < 0) fail("decoding.beta", "must be >= 0");
  if (!(b.max_len_ratio > 0)) fail("decoding.max_len_ratio", "must be positive");
  if (b.batch_size < 1) fail("decoding.batch_size", "must be at least 1");
  if (c.run_dir.empty()) fail("run_dir", "must not be empty");
  static const std::regex device_re("auto|cpu|cuda(:[0-9]+)?");
  if (!std::regex_match(c.device, device_re)) fail("device", "expected auto, cpu, cuda or cuda:N, got '" + c.device + "'");
}

std::string dump_config(const Config& config) {
  Config c = config;
  YAML::Emitter e;
  e.SetDoublePrecision(15);  // 15 significant digits: 0.1, not 0.10000000000000001
  e << YAML::BeginMap;
  auto section = [&](const char* name, auto& s) {
    e << YAML::Key << name << YAML::Value << YAML::BeginMap;
    s.visit([&](const char* k, auto& field) { e << YAML::Key << k << YAML::Value << field; });
    e << YAML::EndMap;
  };
  section("model", c.model);
  section("data", c.data);
  section("training", c.training);
  section("decoding", c.decoding);
  e << YAML::Key << "run_dir" << YAML::Value << c.run_dir;
  e << YAML::Key << "device" << YAML::Value << c.device;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::vector<std::string> diff_configs(const Config& a, const Config& b) {
  std::map<std::string, std::string> va, vb;
  Config ca = a, cb = b;
  visit_all(ca, [&](const std::string& k, auto& v) { va[k] = to_text(v); });
  visit_all(cb, [&](const std::string& k, auto& v) { vb[k] = to_text(v); });
  std::vector<std::string> out;
  for (const auto& [k, v] : va)
    if (vb[k] != v) out.push_back(k + ": " + v + " -> " + vb[k]);
  return out;
}

}  // namespace gnmt
