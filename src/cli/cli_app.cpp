#include "cli/cli_app.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "cli/score_command.h"
#include "common/edit_distance.h"
#include "common/error.h"

namespace gnmt {

int run_cli(int argc, char** argv, const std::function<void(CLI::App& app, int* exit_code)>& add_commands) {
  CLI::App app{"gnmt " GNMT_VERSION ": GNMT-style deep residual LSTM translation (LibTorch)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gnmt " GNMT_VERSION);
  int exit_code = 0;
  add_commands(app, &exit_code);
  // A mistyped command name: say so, with the nearest command (CLI11 would only say one is required).
  if (argc >= 2 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::cerr << "gnmt: error: unknown command '" << argv[1] << "'" << did_you_mean(argv[1], names, "commands")
                << " (see gnmt --help)" << std::endl;
      return kExitBadInput;
    }
  }
  try {
    auto args = normalize_sacrebleu_short_flags(argc, argv);  // sacreBLEU's -tok, -lc, ... for `score`
    app.parse(args.argc(), args.argv());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    // A mistyped option (--bem 3): name it with the nearest option of its command.
    for (auto* sub : app.get_subcommands()) {
      std::vector<std::string> flags;
      for (const auto* opt : sub->get_options())
        for (const auto& n : opt->get_lnames()) flags.push_back("--" + n);
      for (const auto& arg : sub->remaining()) {
        if (arg.rfind("--", 0) != 0) continue;
        const std::string word = arg.substr(0, arg.find('='));
        const std::string best = nearest(word, flags);
        if (best.empty()) continue;
        std::cerr << "gnmt: error: unknown option '" << word << "' for '" << sub->get_name() << "' (did you mean '"
                  << best << "'?) (see gnmt " << sub->get_name() << " --help)" << std::endl;
        return kExitBadInput;
      }
    }
    std::cerr << "gnmt: error: " << e.what() << " (see gnmt --help, or gnmt COMMAND --help)" << std::endl;
    return kExitBadInput;
  } catch (const CLI::ParseError& e) {
    // A bad command line is bad input like any other: one line, exit code 2.
    std::cerr << "gnmt: error: " << e.what() << " (see gnmt --help, or gnmt COMMAND --help)" << std::endl;
    return kExitBadInput;
  } catch (const Error& e) {
    std::cerr << "gnmt: error: " << e.what() << std::endl;
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "gnmt: error: " << e.what() << std::endl;
    return kExitFailure;
  }
  return exit_code;
}

}  // namespace gnmt
