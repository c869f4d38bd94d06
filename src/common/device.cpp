#include "common/device.h"

#include <c10/cuda/CUDACachingAllocator.h>
#include <sys/resource.h>

#include <thread>

#include "common/error.h"

namespace gnmt {

torch::Device resolve_device(const std::string& spec) {
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw Error("device '" + spec + "' requested but CUDA is not available on this machine (use device: cpu or auto)");
    torch::Device d(spec == "cuda" ? std::string("cuda:0") : spec);
    if (d.index() >= static_cast<int>(torch::cuda::device_count()))
      throw Error("device '" + spec + "' requested but only " + std::to_string(torch::cuda::device_count()) + " CUDA device(s) exist");
    return d;
  }
  throw Error("device '" + spec + "': expected auto, cpu, cuda or cuda:N");
}

double peak_memory_mib(const torch::Device& device) {
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak) / (1 << 20);
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024;  // KiB on Linux
}

int configure_threads(int64_t threads) {
  int n = threads > 0 ? static_cast<int>(threads) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  return n;
}

}  // namespace gnmt
