// The CUDA attention kernels (src/models/additive_kernels_cuda.cuh), run on the CPU: one host thread per
// CUDA thread, the blocks of a grid one after another, __syncthreads() a barrier of the block's threads,
// __shared__ arrays shared by them. This checks the kernels' tiling and indexing here, where no GPU runs;
// Devices/OnDevice.AttentionScoresEqualTheCompositeExpressionInDouble/cuda checks them on a GPU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

// ---- a CUDA execution model on host threads --------------------------------------------------------
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
thread_local dim3 threadIdx, blockIdx;
dim3 gridDim, blockDim;

namespace {
class Barrier {
 public:
  explicit Barrier(unsigned n) : n_(n) {}
  void wait() {
    std::unique_lock<std::mutex> lock(m_);
    const unsigned gen = generation_;
    if (++waiting_ == n_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return gen != generation_; });
    }
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  unsigned n_, waiting_ = 0, generation_ = 0;
};
Barrier* g_block_barrier = nullptr;
std::mutex g_atomic_mutex;
}  // namespace

void __syncthreads() { g_block_barrier->wait(); }
float atomicAdd(float* address, float value) {
  std::lock_guard<std::mutex> lock(g_atomic_mutex);
  const float old = *address;
  *address = old + value;
  return old;
}

#define GNMT_CUDA_EMULATION
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static  // blocks run one at a time: a static array is the block's shared memory
#include "models/additive_kernels_cuda.cuh"

namespace gnmt {
namespace {

namespace dev = kernels::device;

template <class Kernel>
void launch(dim3 grid, unsigned threads, Kernel kernel) {
  gridDim = grid;
  blockDim = dim3(threads);
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        Barrier barrier(threads);
        g_block_barrier = &barrier;
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t)
          pool.emplace_back([&, t] {
            threadIdx = dim3(t);
            blockIdx = dim3(x, y, z);
            kernel();
          });
        for (auto& th : pool) th.join();
      }
}

unsigned tiles(int64_t n, int tile) { return static_cast<unsigned>((n + tile - 1) / tile); }

struct Case { int64_t B, T, S, U; unsigned grid_z; };

// Forward scores and the three gradients against the composite expression in float64.
void check(const Case& c) {
  torch::manual_seed(static_cast<uint64_t>(c.B * 1000 + c.T * 100 + c.S * 10 + c.U));
  auto q = torch::randn({c.B, c.T, c.U}) * 0.7, k = torch::randn({c.B, c.S, c.U}) * 0.7;
  auto v = torch::randn({c.U}) * 0.3, g = torch::randn({c.B, c.T, c.S});
  auto q64 = q.to(torch::kDouble).requires_grad_(), k64 = k.to(torch::kDouble).requires_grad_();
  auto v64 = v.to(torch::kDouble).requires_grad_();
  auto ref = torch::matmul(torch::tanh(q64.unsqueeze(2) + k64.unsqueeze(1)), v64);
  (ref * g.to(torch::kDouble)).sum().backward();

  auto scores = torch::full({c.B, c.T, c.S}, std::nanf(""));
  auto dq = torch::full({c.B, c.T, c.U}, std::nanf("")), dk = torch::full({c.B, c.S, c.U}, std::nanf(""));
  auto dv = torch::zeros({c.U});
  const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>(), *gp = g.data_ptr<float>();
  float *sp = scores.data_ptr<float>(), *dqp = dq.data_ptr<float>(), *dkp = dk.data_ptr<float>(), *dvp = dv.data_ptr<float>();
  launch(dim3(tiles(c.S, dev::TS), tiles(c.T, dev::TT), c.grid_z), dev::kFwdThreads,
         [&] { dev::scores_forward<float>(qp, kp, vp, sp, c.B, c.T, c.S, c.U); });
  launch(dim3(tiles(c.U, dev::BU), tiles(c.T, dev::BT), c.grid_z), dev::kBwdThreads,
         [&] { dev::scores_backward_q<float>(qp, kp, vp, gp, dqp, dvp, c.B, c.T, c.S, c.U); });
  launch(dim3(tiles(c.U, dev::BU), tiles(c.S, dev::BS), c.grid_z), dev::kBwdThreads,
         [&] { dev::scores_backward_k<float>(qp, kp, vp, gp, dkp, c.B, c.T, c.S, c.U); });

  const std::string name = "B=" + std::to_string(c.B) + " T=" + std::to_string(c.T) + " S=" + std::to_string(c.S) +
                           " U=" + std::to_string(c.U) + " grid.z=" + std::to_string(c.grid_z);
  auto close = [&](const torch::Tensor& got, const torch::Tensor& want, const char* what) {
    auto x = got.to(torch::kDouble);
    EXPECT_TRUE(torch::allclose(x, want, 1e-5, 1e-5 * want.abs().max().item<double>()))
        << what << " " << name << ": max error " << (x - want).abs().max().item<double>();
  };
  close(scores, ref.detach(), "scores");
  close(dq, q64.grad(), "dq");
  close(dk, k64.grad(), "dk");
  close(dv, v64.grad(), "dv");
}

TEST(CudaKernelsEmulated, AttentionScoresAndGradientsEqualTheCompositeExpression) {
  check({2, 20, 37, 70, 2});  // no size a multiple of a tile; one grid row per sentence
  check({3, 16, 16, 32, 2});  // exact tiles; fewer grid rows than sentences (the kernels' loop over b)
  check({1, 1, 5, 3, 1});     // smaller than one tile everywhere
}

}  // namespace
}  // namespace gnmt
