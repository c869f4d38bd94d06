#pragma once
// Data-parallel training on torch.distributed (c10d): one process per device, Gloo between CPU processes,
// NCCL between GPUs. Launched the way PyTorch jobs are: torchrun's RANK / WORLD_SIZE / LOCAL_RANK /
// MASTER_ADDR / MASTER_PORT, or Slurm's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID (+ MASTER_ADDR).
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace gnmt {

struct DistributedEnv {
  int rank = 0;                        // this process, 0 .. world_size-1
  int world_size = 1;                  // processes in the job
  int local_rank = 0;                  // this process on its node (picks cuda:LOCAL_RANK)
  std::string master_addr = "127.0.0.1";  // host of rank 0's rendezvous store
  int master_port = 29500;             // its TCP port
  std::string launcher = "none";       // none | torchrun | slurm (where the values came from)

  // Reads the environment. Inconsistent or malformed values are a gnmt::Error naming the variable.
  static DistributedEnv from_environment();
};

// The device of this process: with several processes, "auto" and "cuda" mean cuda:LOCAL_RANK.
std::string device_for_rank(const std::string& spec, const DistributedEnv& env);

// A c10d process group, or nothing at all for a single process (every call is then a no-op).
class Communicator {
 public:
  // Joins the group (rank 0 hosts the TCP store). `device` decides the backend: NCCL for CUDA, Gloo for CPU.
  Communicator(const DistributedEnv& env, const torch::Device& device,
               std::chrono::seconds timeout = std::chrono::minutes(30));
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool is_main() const { return env_.rank == 0; }
  const std::string& backend() const { return backend_; }

  // Copies rank 0's values into every rank's `tensors` (the initial weights).
  void broadcast(const std::vector<torch::Tensor>& tensors);
  // Gradient reduction that overlaps backward, as PyTorch's DDP does: `params` are grouped (in reverse order,
  // roughly the order backward produces their gradients) into buckets of about `bucket_mb` MB; a hook on each
  // parameter copies its final gradient into its bucket, and a full bucket is summed over the ranks at once,
  // in bucket order (the same order on every rank), while backward goes on.
  void attach_gradients(const std::vector<torch::Tensor>& params, double bucket_mb = 25);
  // Call before the backward pass that completes the update's gradients (the last accumulated batch).
  void arm_gradient_hooks();
  // After that backward pass (or with no backward at all on a rank without a batch): reduces what is left,
  // waits, and writes the sums into the gradients (an undefined gradient counts as zeros and becomes
  // defined). `extra` (a small float64 tensor of per-rank statistics) is summed in the same round.
  void finish_gradients(torch::Tensor& extra);
  // Buckets, and how many of them the last finish_gradients() found already launched during backward.
  std::pair<size_t, size_t> bucket_overlap() const;
  // Sums a small tensor over the ranks, in place.
  void all_reduce(torch::Tensor& t);
  // A float64 tensor of per-rank statistics on the device the backend reduces on (CUDA for NCCL, else CPU).
  torch::Tensor stats_tensor(const std::vector<double>& values) const;
  // The element-wise sums of `values` over the ranks (the values themselves for one process).
  std::vector<double> sum_over_ranks(const std::vector<double>& values);
  void barrier();

 private:
  void on_gradient(size_t k, const torch::Tensor& grad);
  void fill_slot(size_t k, const torch::Tensor* incoming);
  void launch_ready_buckets(bool all);
  struct Impl;
  DistributedEnv env_;
  std::string backend_ = "none";
  torch::Device device_ = torch::kCPU;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gnmt
