#pragma once
// The torch::Device is chosen once, at the top of each command, from the config's `device` string.
#include <torch/torch.h>

#include <string>

namespace gnmt {

// auto -> cuda:0 when CUDA is available, else cpu. Asking for CUDA where there is none is a gnmt::Error.
torch::Device resolve_device(const std::string& spec);

// Sets torch's intra-op threads (0 = all cores) and returns the number in use.
int configure_threads(int64_t threads);

}  // namespace gnmt
