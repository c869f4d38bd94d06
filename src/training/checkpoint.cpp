#include "training/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/fs.h"

namespace gnmt {
namespace {

std::string first_line(const std::string& s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

constexpr char kTrailerMagic[8] = {'G', 'N', 'M', 'T', 'S', 'U', 'M', '1'};
constexpr size_t kTrailerSize = 20;

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

// Format 1 (before checksums) had no trailer: such a file is read when it parses as an archive that says
// format 1, with a warning; anything else without a trailer (a truncated format-2 file) is refused.
torch::serialize::InputArchive open_legacy_archive(const std::string& path, const Error& no_trailer) {
  torch::serialize::InputArchive archive;
  c10::IValue format;
  try {
    archive.load_from(path);
    if (!archive.try_read("gnmt.format", format)) throw no_trailer;
  } catch (const std::exception&) {
    throw no_trailer;
  }
  if (!format.isInt() || format.toInt() != 1) throw no_trailer;
  spdlog::warn("checkpoint {}: format 1, written before checkpoints had checksums: it cannot be verified", path);
  return archive;
}

torch::serialize::InputArchive open_archive(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_checksummed_archive(path);
  } catch (const Error& e) {
    if (std::string(e.what()).find("no checksum trailer") == std::string::npos) throw;
    return open_legacy_archive(path, e);
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    throw Error("checkpoint " + path + ": not a readable gnmt checkpoint (checksum is right, but the archive is not): " +
                first_line(e.what()));
  }
  return archive;
}

std::string read_string(torch::serialize::InputArchive& a, const std::string& key, const std::string& path) {
  c10::IValue v;
  if (!a.try_read(key, v) || !v.isString()) throw Error("checkpoint " + path + ": missing '" + key + "' (not a gnmt checkpoint?)");
  return v.toStringRef();
}

// The default CPU generator drives dropout and initialisation; saving it makes resumed runs exact.
torch::Tensor cpu_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

void write_checksummed_archive(const std::string& path, torch::serialize::OutputArchive& archive) {
  write_atomically(path, [&](const std::string& tmp) {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot write " + path + ": " + std::strerror(errno));
    int err = 0;  // first write error; torch is never made to see one (its writer must finish normally)
    uint64_t length = 0;
    uint32_t crc = 0;
    auto put = [&](const void* data, size_t n) {
      const char* p = static_cast<const char*>(data);
      while (n > 0 && err == 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { err = w < 0 ? errno : ENOSPC; break; }
        p += w;
        n -= static_cast<size_t>(w);
      }
    };
    try {
      archive.save_to([&](const void* data, size_t n) -> size_t {
        crc = crc32(data, n, crc);
        length += n;
        put(data, n);
        return n;
      });
    } catch (...) {
      ::close(fd);
      throw;
    }
    unsigned char trailer[kTrailerSize];
    std::memcpy(trailer, kTrailerMagic, 8);
    for (int i = 0; i < 8; ++i) trailer[8 + i] = static_cast<unsigned char>(length >> (8 * i));
    for (int i = 0; i < 4; ++i) trailer[16 + i] = static_cast<unsigned char>(crc >> (8 * i));
    put(trailer, kTrailerSize);
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err != 0)
      throw Error("cannot write " + path + ": " + std::strerror(err) + (err == ENOSPC || err == EDQUOT ? " (disk full)" : ""));
  });
}

std::string read_checksummed_archive(const std::string& path) {
  require_readable_file(path, "checkpoint");
  const std::string bad = "checkpoint " + path + ": not a readable gnmt checkpoint: ";
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error("checkpoint " + path + ": cannot open for reading: " + std::strerror(errno));
  auto size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size)))
    throw Error("checkpoint " + path + ": read error: " + std::strerror(errno));
  if (size < kTrailerSize || std::memcmp(bytes.data() + size - kTrailerSize, kTrailerMagic, 8) != 0)
    throw Error(bad + "no checksum trailer at its end (truncated, damaged, or not a gnmt checkpoint)");
  const auto* t = reinterpret_cast<const unsigned char*>(bytes.data() + size - kTrailerSize);
  uint64_t length = 0;
  uint32_t stored = 0;
  for (int i = 0; i < 8; ++i) length |= static_cast<uint64_t>(t[8 + i]) << (8 * i);
  for (int i = 0; i < 4; ++i) stored |= static_cast<uint32_t>(t[16 + i]) << (8 * i);
  if (length != size - kTrailerSize)
    throw Error(bad + "size mismatch: " + std::to_string(size - kTrailerSize) + " bytes of data, the trailer says " +
                std::to_string(length) + " (truncated or damaged)");
  uint32_t actual = crc32(bytes.data(), length);
  if (actual != stored)
    throw Error(bad + "checksum mismatch: stored CRC-32 " + hex32(stored) + ", computed " + hex32(actual) +
                " (the file is damaged)");
  bytes.resize(length);
  return bytes;
}

void save_checkpoint(const std::string& path, GnmtModel& model, torch::optim::Optimizer* optimizer,
                     const Config& config, const Tokenizer& tokenizer, const TrainingState& s,
                     const std::map<std::string, torch::Tensor>* ema) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive weights;
  model->save(weights);
  archive.write("model", weights);
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    archive.write("optimizer", opt);
  }
  archive.write("gnmt.format", c10::IValue(kCheckpointFormat));
  archive.write("gnmt.config", c10::IValue(dump_config(config)));
  archive.write("gnmt.tokenizer", c10::IValue(tokenizer.serialized()));
  archive.write("gnmt.step", c10::IValue(s.step));
  archive.write("gnmt.epoch", c10::IValue(s.epoch));
  archive.write("gnmt.batch_in_epoch", c10::IValue(s.batch_in_epoch));
  archive.write("gnmt.train_seconds", c10::IValue(s.train_seconds));
  archive.write("gnmt.best_valid_bleu", c10::IValue(s.best_valid_bleu));
  archive.write("gnmt.best_valid_xent", c10::IValue(s.best_valid_xent));
  archive.write("gnmt.validations_since_best", c10::IValue(s.validations_since_best));
  archive.write("gnmt.history", c10::IValue(s.history));
  archive.write("gnmt.best_steps", c10::IValue(s.best_steps));
  archive.write("gnmt.loss_scale", c10::IValue(s.loss_scale));
  archive.write("gnmt.loss_scale_good_steps", c10::IValue(s.loss_scale_good_steps));
  archive.write("gnmt.world_size", c10::IValue(s.world_size));
  archive.write("gnmt.rng", cpu_rng_state(), /*is_buffer=*/true);
  if (ema && !ema->empty()) {
    torch::serialize::OutputArchive e;
    for (const auto& [name, t] : *ema) e.write(name, t.detach().to(torch::kCPU), /*is_buffer=*/true);
    archive.write("ema", e);
  }
  write_checksummed_archive(path, archive);
}

Checkpoint load_checkpoint(const std::string& path, const torch::Device& device) {
  auto archive = open_archive(path);
  c10::IValue format;
  if (!archive.try_read("gnmt.format", format) || !format.isInt())
    throw Error("checkpoint " + path + ": no format version (not a gnmt checkpoint?)");
  if (format.toInt() != kCheckpointFormat && format.toInt() != 1)
    throw Error("checkpoint " + path + ": format version " + std::to_string(format.toInt()) + ", this gnmt reads " +
                std::to_string(kCheckpointFormat));
  Checkpoint ck{parse_config(read_string(archive, "gnmt.config", path), path + " (stored config)"),
                Tokenizer::from_serialized(read_string(archive, "gnmt.tokenizer", path), path + " (stored tokenizer)"),
                {}, nullptr, path, {}, kCheckpointFormat};
  auto read_int = [&](const char* key) { c10::IValue v; archive.try_read(key, v); return v.isInt() ? v.toInt() : 0; };
  auto read_double = [&](const char* key, double def) { c10::IValue v; archive.try_read(key, v); return v.isDouble() ? v.toDouble() : def; };
  ck.format = format.toInt();
  ck.state.step = read_int("gnmt.step");
  ck.state.epoch = read_int("gnmt.epoch");
  ck.state.batch_in_epoch = read_int("gnmt.batch_in_epoch");
  ck.state.train_seconds = read_double("gnmt.train_seconds", 0);
  ck.state.best_valid_bleu = read_double("gnmt.best_valid_bleu", -1);
  ck.state.best_valid_xent = read_double("gnmt.best_valid_xent", -1);
  ck.state.validations_since_best = read_int("gnmt.validations_since_best");
  ck.state.history = read_string(archive, "gnmt.history", path);
  {
    c10::IValue v;
    if (archive.try_read("gnmt.best_steps", v) && v.isString()) ck.state.best_steps = v.toStringRef();
  }
  ck.state.loss_scale = read_double("gnmt.loss_scale", 65536.0);
  ck.state.loss_scale_good_steps = read_int("gnmt.loss_scale_good_steps");
  ck.state.world_size = std::max<int64_t>(1, read_int("gnmt.world_size"));
  ck.model = GnmtModel(ck.config.model, ck.tokenizer.vocab_size());
  try {
    torch::serialize::InputArchive weights;
    if (!archive.try_read("model", weights)) throw Error("no weights");
    ck.model->load(weights);
  } catch (const std::exception& e) {
    throw Error("checkpoint " + path + ": weights do not match the model its config describes: " + first_line(e.what()));
  }
  torch::serialize::InputArchive ema;
  if (archive.try_read("ema", ema)) {
    for (const auto& p : ck.model->named_parameters()) {
      torch::Tensor t;
      if (!ema.try_read(p.key(), t, /*is_buffer=*/true) || !t.sizes().equals(p.value().sizes()))
        throw Error("checkpoint " + path + ": EMA weights do not match the model (missing or misshapen '" + p.key() + "')");
      ck.ema[p.key()] = t.to(device);
    }
  }
  ck.model->to(device);
  return ck;
}

void load_optimizer_state(const std::string& path, torch::optim::Optimizer& optimizer) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive opt;
  if (!archive.try_read("optimizer", opt)) throw Error("checkpoint " + path + ": no optimizer state to resume from");
  try {
    optimizer.load(opt);
  } catch (const std::exception& e) {
    throw Error("checkpoint " + path + ": optimizer state does not fit this model: " + first_line(e.what()));
  }
  torch::Tensor rng;
  if (archive.try_read("gnmt.rng", rng, /*is_buffer=*/true)) set_cpu_rng_state(rng);
}

}  // namespace gnmt
