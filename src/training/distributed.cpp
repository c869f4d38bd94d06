#include "training/distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef GNMT_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

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
};

Communicator::Communicator(const DistributedEnv& env, const torch::Device& device, std::chrono::seconds timeout)
    : env_(env) {
  if (env.world_size <= 1) return;
  impl_ = std::make_unique<Impl>();
  c10d::TCPStoreOptions so;
  so.port = static_cast<uint16_t>(env.master_port);
  so.isServer = env.rank == 0;
  so.numWorkers = env.world_size;
  so.waitWorkers = true;
  so.timeout = timeout;
  try {
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
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

void Communicator::barrier() {
  if (!impl_) return;
  impl_->group->barrier()->wait();
}

void Communicator::all_reduce_gradients(const std::vector<torch::Tensor>& params, torch::Tensor& extra, double bucket_mb) {
  if (!impl_) return;
  torch::NoGradGuard no_grad;
  // Buckets of consecutive parameters of one dtype, flattened into one buffer each, reduced concurrently.
  struct Bucket { std::vector<torch::Tensor> grads; torch::Tensor flat; c10::intrusive_ptr<c10d::Work> work; };
  std::vector<Bucket> buckets;
  const int64_t limit = static_cast<int64_t>(bucket_mb * 1024 * 1024);
  int64_t bytes = limit;
  for (const auto& p : params) {
    auto& g = p.mutable_grad();
    if (!g.defined()) g = torch::zeros_like(p);
    if (bytes + g.nbytes() > static_cast<size_t>(limit) || buckets.back().grads.front().scalar_type() != g.scalar_type()) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().grads.push_back(g);
    bytes += static_cast<int64_t>(g.nbytes());
  }
  for (auto& b : buckets) {
    std::vector<torch::Tensor> flat;
    for (const auto& g : b.grads) flat.push_back(g.reshape({-1}));
    b.flat = torch::cat(flat);
    std::vector<at::Tensor> one{b.flat};
    b.work = impl_->group->allreduce(one);
  }
  std::vector<at::Tensor> ex{extra};
  auto extra_work = impl_->group->allreduce(ex);
  for (auto& b : buckets) {
    b.work->wait();
    int64_t offset = 0;
    for (auto& g : b.grads) {
      g.copy_(b.flat.narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
  }
  extra_work->wait();
}

}  // namespace gnmt
