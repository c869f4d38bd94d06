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

torch::Tensor smoothed_loss(const torch::Tensor& logits, const torch::Tensor& target, double smoothing) {
  namespace F = torch::nn::functional;
  return F::cross_entropy(logits.reshape({-1, logits.size(-1)}), target.reshape({-1}),
                          F::CrossEntropyFuncOptions().ignore_index(0).label_smoothing(smoothing).reduction(torch::kSum));
}

}  // namespace gnmt
