// Internal n-gram counting engine shared by BLEU and chrF.
//
// A sequence of symbols (interned word ids or code points, all >= 1) is indexed once for all
// orders 1..max_order: every start position's window (truncated at the end of the sequence) is
// sorted lexicographically, so the n-grams of any order n form runs of equal n-symbol prefixes,
// already in ascending order. Two indexes built with the same (max_order, bits) can be
// merge-walked to count matches. When max_order*bits <= 128 the windows are packed into one
// 128-bit integer key (the fast path); otherwise positions are sorted with a comparator.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string_view>
#include <thread>
#include <vector>

#include "eval/references.h"

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
  // `syms` must outlive the index; each symbol in [1, 2^bits). `nearly_sorted`: symbols are
  // numbered in order of first appearance (so windows come mostly in ascending order).
  void build(const std::uint32_t* syms, std::size_t len, int max_order, int bits, bool nearly_sorted = false);

  // Distinct n-grams of order n (1 <= n <= max_order), ascending; replaces `out`.
  void groups(int n, std::vector<NgramGroup>& out) const;

  // <0, 0, >0: n-gram `a` of this index vs n-gram `b` of `other` (same max_order and bits).
  int compare(int n, const NgramGroup& a, const NgramIndex& other, const NgramGroup& b) const;

  std::size_t length() const { return len_; }
  bool narrow() const { return narrow_; }

  // Narrow mode only (both indexes): sum over common n-grams of min(count here, count in other),
  // by a merge walk over the sorted keys without materialising groups.
  std::uint64_t clipped_matches_narrow(int n, const NgramIndex& other) const;

  // Narrow mode only (both indexes): matches[n-1] = clipped_matches_narrow(n, other) for every
  // order n = 1..max_order, in one branch-free merge walk: consecutive keys of the merged order
  // share a prefix of L symbols, which closes the groups of the orders above L.
  void clipped_matches_narrow_all(const NgramIndex& other, std::uint64_t* matches) const;

 private:
  const std::uint32_t* syms_ = nullptr;
  std::size_t len_ = 0;
  int max_order_ = 1;
  int bits_ = 1;
  bool packed_ = true;
  bool narrow_ = false;               // packed into 64 bits (max_order * bits <= 64)
  std::vector<u128> keys_;            // packed mode, sorted
  std::vector<std::uint64_t> keys64_; // narrow packed mode, sorted
  std::vector<std::uint32_t> order_;  // wide mode, sorted start positions
  std::vector<std::uint32_t> radix_counts_;  // narrow mode: scratch of the radix sort
  // Narrow mode, for clipped_matches_narrow_all: symbols shared by two keys whose XOR has its
  // highest set bit at h-1 (index h; 0 = equal keys), and n-gram orders present in a key with t
  // trailing zero bits (a window cut short by the end of the sequence is zero-padded).
  std::uint8_t common_of_high_bit_[65] = {};
  std::uint8_t orders_of_trailing_zeros_[64] = {};
  int tables_bits_ = 0, tables_order_ = 0;  // the (bits, max_order) the two tables were filled for
  void fill_tables();
};

// Sum over common n-grams of min(count_a, count_b) (clipped matches).
std::uint64_t clipped_matches(int n, const NgramIndex& ia, const std::vector<NgramGroup>& a,
                              const NgramIndex& ib, const std::vector<NgramGroup>& b);

// Interns strings to ids 1, 2, ... (open addressing; no allocation once warm). Views must stay
// valid until reset().
class Interner {
 public:
  // Clears the table, sized for about `expected` distinct strings.
  void reset(std::size_t expected) {
    std::size_t cap = 16;
    while (cap < 2 * expected + 2) cap <<= 1;
    if (slots_.size() < cap) {
      slots_.assign(cap, Slot{});
    } else {  // a larger table from an earlier (longer) segment serves as well
      for (const std::size_t i : used_) slots_[i] = Slot{};
    }
    used_.clear();
    mask_ = slots_.size() - 1;
    size_ = 0;
  }
  std::uint32_t id(std::string_view s) {
    std::size_t i = static_cast<std::size_t>(hash(s)) & mask_;
    while (true) {
      Slot& sl = slots_[i];
      if (sl.id == 0) {
        if (2 * (size_ + 1) > slots_.size()) {  // grow (rare: more strings than announced)
          grow();
          return id(s);
        }
        sl.key = s;
        sl.id = static_cast<std::uint32_t>(++size_);
        used_.push_back(i);
        return sl.id;
      }
      if (sl.key == s) return sl.id;
      i = (i + 1) & mask_;
    }
  }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::string_view key;
    std::uint32_t id = 0;
  };
  // Eight bytes at a time (multiply-xorshift mixing).
  static std::uint64_t hash(std::string_view s) {
    const char* p = s.data();
    std::size_t n = s.size();
    std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xC2B2AE3D27D4EB4FULL);
    for (; n >= 8; n -= 8, p += 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      h = (h ^ v) * 0xFF51AFD7ED558CCDULL;
      h ^= h >> 32;
    }
    if (n > 0) {
      std::uint64_t v = 0;
      for (std::size_t k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[k])) << (8 * k);
      h = (h ^ v) * 0xC4CEB9FE1A85EC53ULL;
    }
    return h ^ (h >> 29);
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    used_.clear();
    for (const Slot& sl : old) {
      if (sl.id == 0) continue;
      std::size_t i = static_cast<std::size_t>(hash(sl.key)) & mask_;
      while (slots_[i].id != 0) i = (i + 1) & mask_;
      slots_[i] = sl;
      used_.push_back(i);
    }
  }
  std::vector<Slot> slots_;
  std::vector<std::size_t> used_;
  std::size_t mask_ = 0, size_ = 0;
};

// Runs fn(begin, end, acc) over [0, n) in chunks on several threads; accumulators are summed.
// Threads take chunks as they go (a thread that the OS holds back takes fewer), so `+=` must not
// depend on the order of the pieces (true of the integer statistics of BLEU and chrF).
template <class Stats, class Fn>
Stats parallel_accumulate(std::size_t n, const Stats& zero, Fn fn) {
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<std::size_t>({threads, 8, n / 2000 + 1});
  if (threads <= 1) {
    Stats acc = zero;
    fn(0, n, acc);
    return acc;
  }
  std::vector<Stats> accs(threads, zero);
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> pool;
  const std::size_t chunk = std::max<std::size_t>(500, n / (threads * 32));
  std::atomic<std::size_t> next{0};
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t]() {
      try {
        for (std::size_t b; (b = next.fetch_add(chunk)) < n;) fn(b, std::min(n, b + chunk), accs[t]);
      } catch (...) {
        errors[t] = std::current_exception();
        next = n;  // the others stop at their next chunk
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  Stats acc = zero;
  for (const auto& a : accs) acc += a;
  return acc;
}

// Corpus statistics over optional references (a missing one is left out of its segment), summed in
// parallel. seg(hyp, refs) computes one segment's statistics from string views.
template <class Stats, class SegmentFn>
Stats corpus_stats_optional(const char* metric, const std::vector<std::string>& hyps, const OptionalRefStreams& refs,
                            const Stats& zero, SegmentFn seg) {
  std::vector<std::size_t> sizes;
  for (const auto& s : refs) sizes.push_back(s.size());
  check_ref_streams(metric, hyps.size(), refs.size(), sizes);
  return parallel_accumulate(hyps.size(), zero, [&](std::size_t b, std::size_t e, Stats& acc) {
    std::vector<std::string_view> views;
    for (std::size_t i = b; i < e; ++i) {
      views.clear();
      for (const auto& stream : refs) {
        if (stream[i]) views.emplace_back(*stream[i]);
      }
      acc += seg(hyps[i], views);
    }
  });
}

// The statistics of every segment, computed in parallel.
template <class Stats, class SegmentFn>
std::vector<Stats> segment_stats_all(const char* metric, const std::vector<std::string>& hyps, const RefStreams& refs,
                                     SegmentFn seg) {
  std::vector<std::size_t> sizes;
  for (const auto& s : refs) sizes.push_back(s.size());
  check_ref_streams(metric, hyps.size(), refs.size(), sizes);
  std::vector<Stats> out(hyps.size());
  struct Nothing {
    Nothing& operator+=(const Nothing&) { return *this; }
  };
  parallel_accumulate(hyps.size(), Nothing{}, [&](std::size_t b, std::size_t e, Nothing&) {
    std::vector<std::string_view> views(refs.size());
    for (std::size_t i = b; i < e; ++i) {
      for (std::size_t k = 0; k < refs.size(); ++k) views[k] = refs[k][i];
      out[i] = seg(hyps[i], views);
    }
  });
  return out;
}

}  // namespace gnmt::detail
