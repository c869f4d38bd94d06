#pragma once
// The device code of additive_kernels_cuda.cu: the three kernels and their tile sizes, in a header so that
// tests/cuda_kernels_emulated_test.cpp can run the same source on the CPU (one host thread per CUDA thread,
// GNMT_CUDA_EMULATION). Include only from the .cu file or that test.
#include <cstdint>

namespace gnmt::kernels::device {

__device__ __forceinline__ float to_float(float x) { return x; }
#ifndef GNMT_CUDA_EMULATION
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
#define GNMT_UNROLL_8 _Pragma("unroll 8")
#else
#define GNMT_UNROLL_8  // a host compiler has no #pragma unroll
#endif

constexpr int kMaxGridZ = 65535;

// Stages rows [r0, r0 + R) x columns [c0, c0 + C) of the row-major rows x cols matrix m into tile, as
// float, zeros outside the matrix; the block's Threads threads share the work. Every tile of the three
// kernels is loaded this way.
template <int R, int C, int Threads, int Pitch, typename In>
__device__ __forceinline__ void load_tile(float (&tile)[R][Pitch], const In* m, int64_t rows, int64_t cols, int64_t r0,
                                          int64_t c0, int tid) {
  for (int i = tid; i < R * C; i += Threads) {
    const int r = i / C, c = i % C;
    const int64_t rr = r0 + r, cc = c0 + c;
    tile[r][c] = (rr < rows && cc < cols) ? to_float(m[rr * cols + cc]) : 0.f;
  }
}

// Forward: a block computes a TT x TS tile of scores[b], one score per thread, summing over u in chunks of
// UC staged in shared memory (rows padded by one float against bank conflicts).
constexpr int TT = 16, TS = 16, UC = 32, kFwdThreads = TT * TS;

template <typename In>
__global__ void __launch_bounds__(kFwdThreads) scores_forward(const In* __restrict__ q, const In* __restrict__ k,
                                                              const float* __restrict__ v, float* __restrict__ out,
                                                              int64_t B, int64_t T, int64_t S, int64_t U) {
  __shared__ float qs[TT][UC + 1];
  __shared__ float ks[TS][UC + 1];
  __shared__ float vs[UC];
  const int tid = static_cast<int>(threadIdx.x), ti = tid / TS, si = tid % TS;
  const int64_t t0 = static_cast<int64_t>(blockIdx.y) * TT, s0 = static_cast<int64_t>(blockIdx.x) * TS;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    float acc = 0.f;
    for (int64_t u0 = 0; u0 < U; u0 += UC) {
      load_tile<TT, UC, kFwdThreads>(qs, q + b * T * U, T, U, t0, u0, tid);
      load_tile<TS, UC, kFwdThreads>(ks, k + b * S * U, S, U, s0, u0, tid);
      if (tid < UC) vs[tid] = (u0 + tid < U) ? v[u0 + tid] : 0.f;
      __syncthreads();
GNMT_UNROLL_8
      for (int c = 0; c < UC; ++c) acc += vs[c] * tanhf(qs[ti][c] + ks[si][c]);
      __syncthreads();
    }
    const int64_t t = t0 + ti, s = s0 + si;
    if (t < T && s < S) out[(b * T + t) * S + s] = acc;
  }
}

// Backward, query side: a block holds a BT x BU tile of dq[b] (one element per thread) and walks over s in
// chunks of SC: dq[t,u] = v[u] sum_s g[t,s] (1 - tanh^2), and the block's share of dv[u] = sum g tanh.
constexpr int BT = 16, BU = 32, SC = 32, kBwdThreads = BT * BU;

template <typename In>
__global__ void __launch_bounds__(kBwdThreads) scores_backward_q(const In* __restrict__ q, const In* __restrict__ k,
                                                                 const float* __restrict__ v,
                                                                 const float* __restrict__ g, float* __restrict__ dq,
                                                                 float* __restrict__ dv, int64_t B, int64_t T,
                                                                 int64_t S, int64_t U) {
  __shared__ float ks[SC][BU + 1];
  __shared__ float gs[BT][SC + 1];
  __shared__ float dvs[BT][BU];
  const int tid = static_cast<int>(threadIdx.x), ui = tid % BU, ti = tid / BU;
  const int64_t t = static_cast<int64_t>(blockIdx.y) * BT + ti, u = static_cast<int64_t>(blockIdx.x) * BU + ui;
  const int64_t t0 = static_cast<int64_t>(blockIdx.y) * BT, u0 = static_cast<int64_t>(blockIdx.x) * BU;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    const float qv = (t < T && u < U) ? to_float(q[(b * T + t) * U + u]) : 0.f;
    float dq_acc = 0.f, dv_acc = 0.f;
    for (int64_t s0 = 0; s0 < S; s0 += SC) {
      load_tile<SC, BU, kBwdThreads>(ks, k + b * S * U, S, U, s0, u0, tid);
      load_tile<BT, SC, kBwdThreads>(gs, g + b * T * S, T, S, t0, s0, tid);
      __syncthreads();
GNMT_UNROLL_8
      for (int c = 0; c < SC; ++c) {
        const float th = tanhf(qv + ks[c][ui]), gg = gs[ti][c];
        dq_acc += gg * (1.f - th * th);
        dv_acc += gg * th;
      }
      __syncthreads();
    }
    if (t < T && u < U) dq[(b * T + t) * U + u] = v[u] * dq_acc;
    dvs[ti][ui] = (t < T && u < U) ? dv_acc : 0.f;
    __syncthreads();
    if (ti == 0 && u < U) {
      float sum = 0.f;
      for (int r = 0; r < BT; ++r) sum += dvs[r][ui];
      atomicAdd(dv + u, sum);
    }
    __syncthreads();
  }
}

// Backward, key side: a block holds a BS x BU tile of dk[b] and walks over t in chunks of TC:
// dk[s,u] = v[u] sum_t g[t,s] (1 - tanh^2).
constexpr int BS = 16, TC = 32;

template <typename In>
__global__ void __launch_bounds__(kBwdThreads) scores_backward_k(const In* __restrict__ q, const In* __restrict__ k,
                                                                 const float* __restrict__ v,
                                                                 const float* __restrict__ g, float* __restrict__ dk,
                                                                 int64_t B, int64_t T, int64_t S, int64_t U) {
  __shared__ float qs[TC][BU + 1];
  __shared__ float gs[TC][BS + 1];
  const int tid = static_cast<int>(threadIdx.x), ui = tid % BU, si = tid / BU;
  const int64_t s = static_cast<int64_t>(blockIdx.y) * BS + si, u = static_cast<int64_t>(blockIdx.x) * BU + ui;
  const int64_t s0 = static_cast<int64_t>(blockIdx.y) * BS, u0 = static_cast<int64_t>(blockIdx.x) * BU;
  for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
    const float kv = (s < S && u < U) ? to_float(k[(b * S + s) * U + u]) : 0.f;
    float acc = 0.f;
    for (int64_t t0 = 0; t0 < T; t0 += TC) {
      load_tile<TC, BU, kBwdThreads>(qs, q + b * T * U, T, U, t0, u0, tid);
      load_tile<TC, BS, kBwdThreads>(gs, g + b * T * S, T, S, t0, s0, tid);
      __syncthreads();
GNMT_UNROLL_8
      for (int c = 0; c < TC; ++c) {
        const float th = tanhf(qs[c][ui] + kv);
        acc += gs[c][si] * (1.f - th * th);
      }
      __syncthreads();
    }
    if (s < S && u < U) dk[(b * S + s) * U + u] = v[u] * acc;
  }
}

}  // namespace gnmt::kernels::device
