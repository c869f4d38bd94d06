#include "training/distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef GNMT_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <mutex>

#include "common/error.h"

namespace gnmt {
namespace {

const char* env_or_null(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

int env_int(const char* name, int fallback, int min_value) {
  const char* v = env_or_null(name);
  if (!v) return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < min_value || x > 1 << 20)
    throw Error(std::string("environment variable ") + name + "='" + v + "': expected an integer >= " + std::to_string(min_value));
  return static_cast<int>(x);
}

}  // namespace

DistributedEnv DistributedEnv::from_environment() {
  DistributedEnv e;
  const bool torchrun = env_or_null("WORLD_SIZE") != nullptr;
  const bool slurm = !torchrun && env_or_null("SLURM_NTASKS") != nullptr && env_or_null("SLURM_PROCID") != nullptr;
  const char* rank_var = torchrun ? "RANK" : "SLURM_PROCID";
  const char* world_var = torchrun ? "WORLD_SIZE" : "SLURM_NTASKS";
  const char* local_var = torchrun ? "LOCAL_RANK" : "SLURM_LOCALID";
  if (!torchrun && !slurm) return e;
  e.launcher = torchrun ? "torchrun" : "slurm";
  e.world_size = env_int(world_var, 1, 1);
  e.rank = env_int(rank_var, 0, 0);
  e.local_rank = env_int(local_var, 0, 0);
  if (e.rank >= e.world_size)
    throw Error(std::string("environment variable ") + rank_var + "=" + std::to_string(e.rank) + ": must be below " +
                world_var + "=" + std::to_string(e.world_size));
  if (torchrun && e.world_size > 1 && !env_or_null("RANK"))
    throw Error("environment variable RANK: required when WORLD_SIZE=" + std::to_string(e.world_size));
  if (const char* a = env_or_null("MASTER_ADDR")) {
    e.master_addr = a;
  } else if (e.world_size > 1) {
    throw Error(std::string("environment variable MASTER_ADDR: required with ") + world_var + "=" + std::to_string(e.world_size) +
                " (torchrun sets it; under Slurm export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1))");
  }
  e.master_port = env_int("MASTER_PORT", e.master_port, 1);
  if (e.master_port > 65535) throw Error("environment variable MASTER_PORT: expected a TCP port (1-65535)");
  return e;
}

std::string device_for_rank(const std::string& spec, const DistributedEnv& env) {
  if (env.world_size <= 1) return spec;
  if (spec == "cuda" || (spec == "auto" && torch::cuda::is_available())) return "cuda:" + std::to_string(env.local_rank);
  return spec;
}

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> group;
  struct Bucket {
    std::vector<size_t> members;  // parameter indices
    int64_t numel = 0;
    at::ScalarType dtype = at::kFloat;
    torch::Device device = torch::kCPU;
    torch::Tensor flat;           // the bucket's gradients, concatenated
    size_t filled = 0;            // members whose gradient is in `flat`
    c10::intrusive_ptr<c10d::Work> work;
  };
  struct Slot { size_t bucket = 0; int64_t offset = 0; bool filled = false; };
  struct Reducer {
    std::vector<torch::Tensor> params;
    std::vector<Slot> slots;
    std::vector<Bucket> buckets;
    size_t next_launch = 0;       // buckets before this one are in flight
    size_t launched_in_backward = 0;  // of the last update
    bool armed = false;
    std::mutex mutex;
  } reducer;
};

Communicator::Communicator(const DistributedEnv& env, const torch::Device& device, std::chrono::seconds timeout)
    : env_(env), device_(device) {
  if (env.world_size <= 1) return;
  impl_ = std::make_unique<Impl>();
  // Under torchrun the elastic agent already serves the store at MASTER_ADDR:MASTER_PORT (as PyTorch does,
  // every rank is then a client); keys are prefixed per restart so a restarted job starts clean.
  const char* agent = env_or_null("TORCHELASTIC_USE_AGENT_STORE");
  const bool agent_store = agent && std::string(agent) == "True";
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(env.master_port);
  so.isServer = env.rank == 0 && !agent_store;
  so.numWorkers = env.world_size;
  so.waitWorkers = !agent_store;
  so.timeout = timeout;
  try {
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    const char* restart = env_or_null("TORCHELASTIC_RESTART_COUNT");
    impl_->store = c10::make_intrusive<c10d::PrefixStore>(std::string("gnmt/attempt_") + (restart ? restart : "0"), tcp);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + ": cannot join the rendezvous at " + env.master_addr + ":" +
                             std::to_string(env.master_port) + ": " + std::string(e.what()).substr(0, 300));
  }
  if (device.is_cuda()) {
#ifdef GNMT_WITH_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env.rank, env.world_size, opts);
    backend_ = "nccl";
#else
    throw Error("device " + device.str() + " with WORLD_SIZE > 1 needs NCCL, and this gnmt was built without it "
                "(nccl.h not found at configure time)");
#endif
  } else {
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    // GLOO_SOCKET_IFNAME picks the network interface as in PyTorch; a single node talks over loopback.
    if (const char* ifname = env_or_null("GLOO_SOCKET_IFNAME"))
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost")
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, opts);
    backend_ = "gloo";
  }
}

Communicator::~Communicator() = default;

void Communicator::broadcast(const std::vector<torch::Tensor>& tensors) {
  if (!impl_) return;
  for (const auto& t : tensors) {
    std::vector<at::Tensor> one{t};
    impl_->group->broadcast(one)->wait();
  }
}

void Communicator::all_reduce(torch::Tensor& t) {
  if (!impl_) return;
  std::vector<at::Tensor> one{t};
  impl_->group->allreduce(one)->wait();
}

torch::Tensor Communicator::stats_tensor(const std::vector<double>& values) const {
  return torch::tensor(values, torch::TensorOptions(torch::kFloat64).device(backend_ == "nccl" ? device_ : torch::Device(torch::kCPU)));
}

std::vector<double> Communicator::sum_over_ranks(const std::vector<double>& values) {
  auto t = stats_tensor(values);
  all_reduce(t);
  t = t.cpu();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

void Communicator::barrier() {
  if (!impl_) return;
  impl_->group->barrier()->wait();
}

void Communicator::attach_gradients(const std::vector<torch::Tensor>& params, double bucket_mb) {
  if (!impl_) return;
  auto& r = impl_->reducer;
  r.params = params;
  r.slots.assign(params.size(), {});
  r.buckets.clear();
  const auto limit = static_cast<int64_t>(bucket_mb * 1024 * 1024);
  int64_t bytes = limit;
  for (size_t k = params.size(); k-- > 0;) {
    const auto& p = params[k];
    const auto nbytes = static_cast<int64_t>(p.numel() * p.element_size());
    if (bytes + nbytes > limit || r.buckets.back().dtype != p.scalar_type()) {
      r.buckets.emplace_back();
      r.buckets.back().dtype = p.scalar_type();
      r.buckets.back().device = p.device();
      bytes = 0;
    }
    auto& b = r.buckets.back();
    r.slots[k] = {r.buckets.size() - 1, b.numel};
    b.members.push_back(k);
    b.numel += p.numel();
    bytes += nbytes;
  }
  for (auto& b : r.buckets) b.flat = torch::zeros({b.numel}, torch::TensorOptions(b.dtype).device(b.device));
  for (size_t k = 0; k < params.size(); ++k) {
    auto param = params[k];  // hooks must not keep the tensor alive through a reference cycle: capture index
    param.register_hook([this, k](const torch::Tensor& grad) { on_gradient(k, grad); });
  }
}

void Communicator::arm_gradient_hooks() {
  if (!impl_) return;
  std::lock_guard<std::mutex> lock(impl_->reducer.mutex);
  impl_->reducer.armed = true;
}

// Copies parameter k's final gradient (what is accumulated so far + this backward's part) into its bucket.
void Communicator::fill_slot(size_t k, const torch::Tensor* incoming) {
  auto& r = impl_->reducer;
  auto& slot = r.slots[k];
  if (slot.filled) return;
  auto& b = r.buckets[slot.bucket];
  auto view = b.flat.narrow(0, slot.offset, r.params[k].numel());
  const auto& existing = r.params[k].grad();
  if (incoming && existing.defined()) torch::add_out(view, existing.reshape({-1}), incoming->reshape({-1}));
  else if (incoming) view.copy_(incoming->reshape({-1}));
  else if (existing.defined()) view.copy_(existing.reshape({-1}));
  else view.zero_();
  slot.filled = true;
  ++b.filled;
}

// Launches the buckets that are complete, strictly in bucket order.
void Communicator::launch_ready_buckets(bool all) {
  auto& r = impl_->reducer;
  while (r.next_launch < r.buckets.size()) {
    auto& b = r.buckets[r.next_launch];
    if (!all && b.filled < b.members.size()) break;
    std::vector<at::Tensor> one{b.flat};
    b.work = impl_->group->allreduce(one);
    ++r.next_launch;
  }
}

void Communicator::on_gradient(size_t k, const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(impl_->reducer.mutex);
  if (!impl_->reducer.armed) return;
  torch::NoGradGuard no_grad;
  fill_slot(k, &grad);
  launch_ready_buckets(false);
}

std::pair<size_t, size_t> Communicator::bucket_overlap() const {
  if (!impl_) return {0, 0};
  return {impl_->reducer.buckets.size(), impl_->reducer.launched_in_backward};
}

void Communicator::finish_gradients(torch::Tensor& extra) {
  if (!impl_) return;
  auto& r = impl_->reducer;
  std::lock_guard<std::mutex> lock(r.mutex);
  torch::NoGradGuard no_grad;
  r.launched_in_backward = r.next_launch;
  for (size_t k = 0; k < r.params.size(); ++k) fill_slot(k, nullptr);  // no gradient this time: what is there
  launch_ready_buckets(true);
  std::vector<at::Tensor> ex{extra};
  auto extra_work = impl_->group->allreduce(ex);
  for (auto& b : r.buckets) {
    b.work->wait();
    for (size_t k : b.members) {
      auto& g = r.params[k].mutable_grad();
      auto sum = b.flat.narrow(0, r.slots[k].offset, r.params[k].numel()).view(r.params[k].sizes());
      if (g.defined()) g.copy_(sum); else g = sum.clone();
      r.slots[k].filled = false;
    }
    b.filled = 0;
    b.work.reset();
  }
  extra_work->wait();
  r.next_launch = 0;
  r.armed = false;
}

}  // namespace gnmt
