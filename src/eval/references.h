// Reference-stream types shared by the BLEU and chrF scorers.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gnmt {

// refs[k][i] is reference k of sentence i (sacreBLEU's `references` argument). An empty string is
// a real (empty) reference, exactly as in sacreBLEU.
using RefStreams = std::vector<std::vector<std::string>>;

// As RefStreams, where std::nullopt marks a missing reference (sacreBLEU's None): that sentence
// simply has fewer references. Every sentence needs at least one.
using OptionalRefStreams = std::vector<std::vector<std::optional<std::string>>>;

// The `nrefs` value of the signature: the number of references per sentence, or -1 ("var")
// when it varies across sentences (RefStreams: the number of streams).
int num_refs_of(const RefStreams& refs);
int num_refs_of(const OptionalRefStreams& refs);

// "var" for -1, otherwise the number.
std::string nrefs_string(int num_refs);

namespace detail {
// Checks that every stream has `num_hyps` entries; throws std::invalid_argument naming `metric`.
void check_ref_streams(const char* metric, std::size_t num_hyps, std::size_t num_streams,
                       const std::vector<std::size_t>& stream_sizes);
}  // namespace detail

}  // namespace gnmt
