// Internal n-gram counting engine shared by BLEU and chrF.
//
// A sequence of symbols (interned word ids or code points, all >= 1) is indexed once for all
// orders 1..max_order: every start position's window (truncated at the end of the sequence) is
// sorted lexicographically, so the n-grams of any order n form runs of equal n-symbol prefixes,
// already in ascending order. Two indexes built with the same (max_order, bits) can be
// merge-walked to count matches. When max_order*bits <= 128 the windows are packed into one
// 128-bit integer key (the fast path); otherwise positions are sorted with a comparator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gnmt::detail {

__extension__ typedef unsigned __int128 u128;  // __extension__: no -Wpedantic noise

struct NgramGroup {
  u128 key = 0;            // packed mode: the n-gram itself
  std::uint32_t pos = 0;   // wide mode: a start position of the n-gram
  std::uint32_t count = 0; // occurrences in the sequence
};

// Smallest bit width that holds max_symbol.
int bits_for(std::uint32_t max_symbol);

class NgramIndex {
 public:
  // `syms` must outlive the index; each symbol in [1, 2^bits).
  void build(const std::uint32_t* syms, std::size_t len, int max_order, int bits);

  // Distinct n-grams of order n (1 <= n <= max_order), ascending; replaces `out`.
  void groups(int n, std::vector<NgramGroup>& out) const;

  // <0, 0, >0: n-gram `a` of this index vs n-gram `b` of `other` (same max_order and bits).
  int compare(int n, const NgramGroup& a, const NgramIndex& other, const NgramGroup& b) const;

  std::size_t length() const { return len_; }

 private:
  const std::uint32_t* syms_ = nullptr;
  std::size_t len_ = 0;
  int max_order_ = 1;
  int bits_ = 1;
  bool packed_ = true;
  std::vector<u128> keys_;            // packed mode, sorted
  std::vector<std::uint32_t> order_;  // wide mode, sorted start positions
};

// Sum over common n-grams of min(count_a, count_b) (clipped matches).
std::uint64_t clipped_matches(int n, const NgramIndex& ia, const std::vector<NgramGroup>& a,
                              const NgramIndex& ib, const std::vector<NgramGroup>& b);

}  // namespace gnmt::detail
