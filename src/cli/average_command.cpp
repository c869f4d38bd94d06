#include "cli/average_command.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <map>

#include "common/error.h"
#include "config/config.h"
#include "training/checkpoint.h"

namespace gnmt {

void average_checkpoints(const std::vector<std::string>& inputs, const std::string& output, bool use_ema) {
  if (inputs.empty()) throw Error("average: give at least one checkpoint");
  const torch::Device cpu(torch::kCPU);
  std::map<std::string, torch::Tensor> sum;
  std::map<std::string, torch::ScalarType> dtype;
  Checkpoint first, newest;
  std::string listed;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto ck = load_checkpoint(inputs[i], cpu);
    if (i == 0) {
      first = ck;
    } else {
      std::string what;
      for (const auto& d : diff_configs(first.config, ck.config))
        if (d.rfind("model.", 0) == 0) what += (what.empty() ? "" : "; ") + d;
      if (!what.empty())
        throw Error("average: " + inputs[i] + " has another model shape than " + inputs[0] + ": " + what);
      if (ck.tokenizer.serialized() != first.tokenizer.serialized())
        throw Error("average: " + inputs[i] + " has another vocabulary than " + inputs[0] + " (" +
                    std::to_string(ck.tokenizer.vocab_size()) + " vs " + std::to_string(first.tokenizer.vocab_size()) +
                    " SentencePiece pieces" +
                    (ck.tokenizer.vocab_size() == first.tokenizer.vocab_size() ? ", different pieces or scores)" : ")"));
    }
    if (use_ema && ck.ema.empty()) throw Error("average: " + inputs[i] + " holds no EMA weights (trained with training.ema_decay 0)");
    for (const auto& p : ck.model->named_parameters()) {
      torch::Tensor t = use_ema ? ck.ema.at(p.key()) : p.value().detach();
      auto it = sum.find(p.key());
      if (it == sum.end()) {
        if (i > 0) throw Error("average: " + inputs[i] + " has a parameter '" + p.key() + "' that " + inputs[0] + " lacks");
        sum[p.key()] = t.to(torch::kDouble).clone();
        dtype[p.key()] = t.scalar_type();
        continue;
      }
      if (!it->second.sizes().equals(t.sizes()))
        throw Error("average: parameter '" + p.key() + "' is " + c10::str(t.sizes()) + " in " + inputs[i] + " but " +
                    c10::str(it->second.sizes()) + " in " + inputs[0]);
      it->second.add_(t.to(torch::kDouble));
    }
    if (ck.model->named_parameters().size() != sum.size())
      throw Error("average: " + inputs[i] + " has " + std::to_string(ck.model->named_parameters().size()) +
                  " parameters, " + inputs[0] + " has " + std::to_string(sum.size()));
    if (i == 0 || ck.state.step > newest.state.step) newest = ck;
    listed += (i ? ", " : "") + inputs[i] + " (step " + std::to_string(ck.state.step) + ")";
  }
  {
    torch::NoGradGuard no_grad;
    const double n = static_cast<double>(inputs.size());
    for (auto& p : newest.model->named_parameters())
      p.value().copy_((sum.at(p.key()) / n).to(dtype.at(p.key())));
  }
  TrainingState state = newest.state;
  state.history += "averaged " + std::string(use_ema ? "the EMA weights of " : "") + std::to_string(inputs.size()) +
                   " checkpoints: " + listed + "\n";
  save_checkpoint(output, newest.model, nullptr, newest.config, newest.tokenizer, state);
  spdlog::info("averaged {} checkpoint{}{} into {}", inputs.size(), inputs.size() == 1 ? "" : "s",
               use_ema ? " (EMA weights)" : "", output);
}

void add_average_command(CLI::App& app, int* exit_code) {
  struct Opts { std::vector<std::string> inputs; std::string output; bool ema = false; };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("average", "Average the weights of several checkpoints into one (for translate)");
  cmd->add_option("checkpoints", o->inputs, "Checkpoints of the same model, e.g. runs/x/ckpt-*.pt")->required();
  cmd->add_option("-o,--output", o->output, "Output checkpoint, written atomically")->required();
  cmd->add_flag("--ema", o->ema, "Average the checkpoints' EMA weights (training.ema_decay) instead of the raw ones");
  cmd->callback([o, exit_code] {
    average_checkpoints(o->inputs, o->output, o->ema);
    *exit_code = 0;
  });
}

}  // namespace gnmt
