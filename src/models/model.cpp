#include "models/model.h"

namespace gnmt {

GnmtModelImpl::GnmtModelImpl(const ModelOptions& o, int64_t vocab) : options(o), vocab_size(vocab) {
  src_embedding = register_module("src_embedding", torch::nn::Embedding(vocab, o.emb_dim));
  tgt_embedding = o.share_embeddings ? src_embedding
                                     : register_module("tgt_embedding", torch::nn::Embedding(vocab, o.emb_dim));
  encoder = register_module("encoder", Encoder(o));
  decoder = register_module("decoder", Decoder(o));
  if (!o.tie_output) output = register_module("output", torch::nn::Linear(torch::nn::LinearOptions(o.hidden_size, vocab).bias(false)));
  output_bias = register_parameter("output_bias", torch::zeros({vocab}));
  dropout = register_module("dropout", torch::nn::Dropout(o.dropout));
  // Uniform(-0.1, 0.1) initialisation, as in GNMT and OpenNMT, except the attention gain.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    if (p.key() == "decoder.attention.g" || p.key() == "output_bias") continue;
    p.value().uniform_(-0.1, 0.1);
  }
}

Memory GnmtModelImpl::encode(const torch::Tensor& src, const torch::Tensor& lengths) {
  auto emb = dropout(src_embedding(src));                 // (S, B, E)
  auto out = encoder(emb, lengths).transpose(0, 1);      // (B, S, H)
  auto mask = (src != 0).transpose(0, 1);                 // (B, S)
  return decoder->attention->prepare(out.contiguous(), mask);
}

torch::Tensor GnmtModelImpl::project(const torch::Tensor& hidden) {
  const auto& w = options.tie_output ? tgt_embedding->weight : output->weight;
  return torch::nn::functional::linear(dropout(hidden), w, output_bias);
}

torch::Tensor GnmtModelImpl::forward(const torch::Tensor& src, const torch::Tensor& lengths, const torch::Tensor& tgt_in) {
  auto memory = encode(src, lengths);
  auto hidden = decoder(tgt_embedding(tgt_in), memory);  // (T, B, H); decoder applies its own input dropout
  return project(hidden);
}

torch::Tensor GnmtModelImpl::step(const torch::Tensor& prev, const Memory& memory, DecoderState& state) {
  auto hidden = decoder->step(tgt_embedding(prev), memory, state);
  return torch::log_softmax(project(hidden), -1);
}

int64_t GnmtModelImpl::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

namespace {

// Label-smoothed cross-entropy summed over rows whose target is not 0, as F::cross_entropy computes it
//   loss = sum_rows (1 - e) * (lse - x_y) + (e / V) * (V * lse - sum_c x_c),
// without its full-size intermediates (log-probabilities, their gradient, the one-hot scatter): rows are
// handled in chunks, and the backward writes softmax - target distribution straight into the gradient.
// bf16/fp16 logits (autocast) are read as they are and computed on in fp32 chunk by chunk, so no fp32
// copy of the whole (N, V) matrix is made; the gradient has the logits' dtype.
struct SmoothedCrossEntropy : torch::autograd::Function<SmoothedCrossEntropy> {
  // Rows per chunk: bounds the fp32 temporaries to rows x V. The CPU wants them in cache; a GPU wants
  // few, large kernels (about 64 M elements per chunk).
  static int64_t chunk_rows(const torch::Tensor& logits) {
    if (!logits.is_cuda()) return 1024;
    return std::max<int64_t>(1024, (int64_t{1} << 26) / std::max<int64_t>(1, logits.size(1)));
  }

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor logits, torch::Tensor target,
                               double smoothing) {
    logits = logits.contiguous();
    const int64_t N = logits.size(0), V = logits.size(1), chunk = chunk_rows(logits);
    auto lse = torch::empty({N, 1}, logits.options().dtype(torch::kFloat));
    auto total = torch::zeros({}, logits.options().dtype(torch::kDouble));
    auto keep = (target != 0).unsqueeze(1);  // (N, 1)
    for (int64_t r0 = 0; r0 < N; r0 += chunk) {
      const int64_t r1 = std::min(N, r0 + chunk);
      auto x = logits.slice(0, r0, r1).to(torch::kFloat);
      auto m = std::get<0>(x.max(1, true));
      auto l = lse.slice(0, r0, r1);
      l.copy_(m + (x - m).exp_().sum(1, true).log_());
      auto nll = l - x.gather(1, target.slice(0, r0, r1).unsqueeze(1));
      auto smooth = l * static_cast<double>(V) - x.sum(1, true);
      auto row = (nll * (1.0 - smoothing) + smooth * (smoothing / static_cast<double>(V)));
      total += row.masked_fill(~keep.slice(0, r0, r1), 0.0).sum().to(torch::kDouble);
    }
    ctx->save_for_backward({logits, target, lse});
    ctx->saved_data["smoothing"] = smoothing;
    return total.to(torch::kFloat);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    auto logits = saved[0], target = saved[1], lse = saved[2];
    const double e = ctx->saved_data["smoothing"].toDouble();
    const int64_t N = logits.size(0), V = logits.size(1), chunk = chunk_rows(logits);
    const bool fp32 = logits.scalar_type() == torch::kFloat;
    auto grad = torch::empty_like(logits);
    auto scale = (target != 0).unsqueeze(1).to(torch::kFloat) * grads[0].to(torch::kFloat);  // (N, 1)
    for (int64_t r0 = 0; r0 < N; r0 += chunk) {
      const int64_t r1 = std::min(N, r0 + chunk);
      auto g = fp32 ? grad.slice(0, r0, r1) : torch::empty({r1 - r0, V}, logits.options().dtype(torch::kFloat));
      torch::sub_out(g, logits.slice(0, r0, r1).to(torch::kFloat), lse.slice(0, r0, r1));
      g.exp_().sub_(e / static_cast<double>(V));
      auto y = target.slice(0, r0, r1).unsqueeze(1);
      g.scatter_add_(1, y, torch::full(y.sizes(), -(1.0 - e), g.options()));
      g.mul_(scale.slice(0, r0, r1));
      if (!fp32) grad.slice(0, r0, r1).copy_(g);
    }
    return {grad, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor smoothed_loss(const torch::Tensor& logits, const torch::Tensor& target, double smoothing) {
  return SmoothedCrossEntropy::apply(logits.reshape({-1, logits.size(-1)}), target.reshape({-1}), smoothing);
}

}  // namespace gnmt
