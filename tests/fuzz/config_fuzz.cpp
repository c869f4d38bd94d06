// libFuzzer target: the config loader. The input is YAML text; after a NUL byte, if any, come --set overrides,
// one per line. Every rejection must be a gnmt::Error (one line for the user); anything else that escapes -
// another exception type, a crash, a sanitizer report - is a bug. A config that loads must survive
// dump -> parse unchanged. Build and run: scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string yaml = input.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    size_t start = nul + 1;
    while (start <= input.size()) {
      size_t end = input.find('\n', start);
      if (end == std::string::npos) end = input.size();
      overrides.push_back(input.substr(start, end - start));
      start = end + 1;
    }
  }
  try {
    const gnmt::Config config = gnmt::parse_config(yaml, "fuzz.yaml", overrides);
    const std::string dumped = gnmt::dump_config(config);
    const std::string again = gnmt::dump_config(gnmt::parse_config(dumped, "dump"));
    if (again != dumped) {
      std::fprintf(stderr, "dump -> parse changed the config:\n%s\n---\n%s\n", dumped.c_str(), again.c_str());
      std::abort();
    }
  } catch (const gnmt::Error&) {
    // Rejected with a message: the expected outcome for most inputs.
  }
  return 0;
}
