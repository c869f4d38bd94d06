#pragma once
// The torch::Device is chosen once, at the top of each command, from the config's `device` string.
#include <torch/torch.h>

#include <string>

namespace gnmt {

// auto -> cuda:0 when CUDA is available, else cpu. Asking for CUDA where there is none is a gnmt::Error.
torch::Device resolve_device(const std::string& spec);

// Peak memory so far in MiB: the CUDA caching allocator's peak for a CUDA device, else the process's peak
// resident set size.
double peak_memory_mib(const torch::Device& device);

// Sets torch's intra-op threads (0 = all cores) and returns the number in use.
int configure_threads(int64_t threads);

}  // namespace gnmt
