#pragma once
// One exception type for every user-facing failure: bad config, corpus, checkpoint or flag.
// main() prints its message as a single line and exits with kExitBadInput.
#include <stdexcept>
#include <string>

namespace gnmt {

constexpr int kExitBadInput = 2;     // user input was rejected (config, corpus, checkpoint, flag)
constexpr int kExitFailure = 1;      // anything else went wrong
constexpr int kExitPreempted = 75;   // training stopped on SIGTERM/SIGINT after a checkpoint (EX_TEMPFAIL): requeue

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace gnmt
