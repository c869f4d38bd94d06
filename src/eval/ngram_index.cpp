#include "eval/ngram_index.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace gnmt::detail {

namespace {

// Sorts keys of `width` bits made of symbols `bits` wide. Keys that are `nearly_sorted` (symbols
// numbered in order of first appearance: mostly ascending) take an insertion sort. Otherwise, when
// symbols are small: a least-significant-
// digit radix sort on the leading (up to) six symbols, branch-free, then an insertion sort that
// only has to order keys sharing those symbols (std::sort if that turns out to be much work).
// Several times faster than std::sort for the few hundred keys of a sentence.
constexpr int kMaxRadixPasses = 3;

// Insertion sort that gives up (leaving a permutation) after `budget` moves.
bool insertion_sort(std::uint64_t* a, std::size_t n, std::size_t budget) {
  std::size_t moves = 0;
  for (std::size_t i = 1; i < n; ++i) {
    const std::uint64_t x = a[i];
    std::size_t j = i;
    for (; j > 0 && a[j - 1] > x; --j) a[j] = a[j - 1];
    a[j] = x;
    moves += i - j;
    if (moves > budget) return false;
  }
  return true;
}

void sort_keys(std::vector<std::uint64_t>& keys, int width, int bits, bool nearly_sorted,
               std::vector<std::uint32_t>& counts) {
  const std::size_t n = keys.size();
  if (n < 2) return;
  if (nearly_sorted && insertion_sort(keys.data(), n, 2 * n + 64)) return;
  const std::size_t buckets = std::size_t(1) << std::min(bits, 31);
  if (bits > 12 || buckets > 4 * n + 64) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  const int passes = std::min(kMaxRadixPasses, width / bits);
  const std::uint64_t mask = buckets - 1;
  counts.assign(static_cast<std::size_t>(passes) * buckets, 0);
  int shift[kMaxRadixPasses] = {};  // pass p sorts by leading symbol passes - 1 - p
  for (int p = 0; p < passes; ++p) shift[p] = width - (passes - p) * bits;
  auto digit = [&](std::uint64_t k, int p) { return static_cast<std::size_t>((k >> shift[p]) & mask); };
  for (const std::uint64_t k : keys) {
    for (int p = 0; p < passes; ++p) ++counts[static_cast<std::size_t>(p) * buckets + digit(k, p)];
  }
  for (int p = 0; p < passes; ++p) {
    std::uint32_t* c = counts.data() + static_cast<std::size_t>(p) * buckets;
    std::uint32_t sum = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      const std::uint32_t v = c[b];
      c[b] = sum;
      sum += v;
    }
  }
  thread_local std::vector<std::uint64_t> tmp;
  tmp.resize(n);
  for (int p = 0; p < passes; ++p) {
    std::uint32_t* c = counts.data() + static_cast<std::size_t>(p) * buckets;
    for (const std::uint64_t k : keys) tmp[c[digit(k, p)]++] = k;
    keys.swap(tmp);
  }
  if (!insertion_sort(keys.data(), n, 8 * n + 256)) std::sort(keys.begin(), keys.end());  // long equal runs
}

}  // namespace

int bits_for(std::uint32_t max_symbol) {
  int b = 1;
  while (b < 32 && (max_symbol >> b) != 0) ++b;
  return b;
}

void NgramIndex::build(const std::uint32_t* syms, std::size_t len, int max_order, int bits, bool nearly_sorted) {
  if (max_order < 1) throw std::invalid_argument("n-gram order must be >= 1");
  syms_ = syms;
  len_ = len;
  max_order_ = max_order;
  bits_ = bits;
  packed_ = static_cast<long>(max_order) * bits <= 128;
  narrow_ = static_cast<long>(max_order) * bits <= 64;
  keys_.clear();
  keys64_.clear();
  order_.clear();
  if (narrow_) {
    const int width = max_order * bits;
    const std::uint64_t mask = width >= 64 ? ~std::uint64_t(0) : ((std::uint64_t(1) << width) - 1);
    keys64_.resize(len);
    std::uint64_t key = 0;
    for (int j = 0; j < max_order; ++j) {
      key = (key << bits) | (static_cast<std::size_t>(j) < len ? syms[j] : 0u);
    }
    for (std::size_t i = 0; i < len; ++i) {
      keys64_[i] = key;
      const std::size_t next = i + static_cast<std::size_t>(max_order);
      key = ((key << bits) | (next < len ? syms[next] : 0u)) & mask;
    }
    sort_keys(keys64_, width, bits, nearly_sorted, radix_counts_);
    // Keys of at most 63 bits: ~0 sorts after every key, a sentinel for clipped_matches_narrow_all.
    if (width < 64) keys64_.push_back(~std::uint64_t(0));
    if (tables_bits_ != bits || tables_order_ != max_order) {
      tables_bits_ = bits;
      tables_order_ = max_order;
      fill_tables();
    }
  } else if (packed_) {
    const int width = max_order * bits;
    const u128 mask = width >= 128 ? ~u128(0) : ((u128(1) << width) - 1);
    keys_.resize(len);
    // Rolling window: key(i) holds syms[i .. i+max_order-1], zero-padded past the end.
    u128 key = 0;
    for (int j = 0; j < max_order; ++j) {
      key = (key << bits) | (static_cast<std::size_t>(j) < len ? syms[j] : 0u);
    }
    for (std::size_t i = 0; i < len; ++i) {
      keys_[i] = key;
      const std::size_t next = i + static_cast<std::size_t>(max_order);
      key = ((key << bits) | (next < len ? syms[next] : 0u)) & mask;
    }
    std::sort(keys_.begin(), keys_.end());
  } else {
    order_.resize(len);
    for (std::size_t i = 0; i < len; ++i) order_[i] = static_cast<std::uint32_t>(i);
    const std::size_t n = len;
    const std::size_t mo = static_cast<std::size_t>(max_order);
    std::sort(order_.begin(), order_.end(), [syms, n, mo](std::uint32_t a, std::uint32_t b) {
      const std::size_t la = std::min(mo, n - a), lb = std::min(mo, n - b);
      return std::lexicographical_compare(syms + a, syms + a + la, syms + b, syms + b + lb);
    });
  }
}

void NgramIndex::fill_tables() {
  const int width = max_order_ * bits_;
  for (int h = 0; h <= 64; ++h) {
    common_of_high_bit_[h] = static_cast<std::uint8_t>(h == 0 ? max_order_ : std::max(0, width - h) / bits_);
  }
  for (int t = 0; t < 64; ++t) {
    orders_of_trailing_zeros_[t] = static_cast<std::uint8_t>(std::max(0, max_order_ - t / bits_));
  }
}

void NgramIndex::groups(int n, std::vector<NgramGroup>& out) const {
  out.clear();
  if (n < 1 || n > max_order_ || static_cast<std::size_t>(n) > len_) return;
  if (narrow_) {
    const int shift = bits_ * (max_order_ - n);
    const std::uint64_t sym_mask = (std::uint64_t(1) << bits_) - 1;
    std::uint64_t last = 0;
    for (std::size_t i = 0; i < len_; ++i) {
      const std::uint64_t k = keys64_[i];
      const std::uint64_t prefix = k >> shift;
      if ((prefix & sym_mask) == 0) continue;  // window shorter than n
      if (!out.empty() && last == prefix) {
        ++out.back().count;
      } else {
        NgramGroup g;
        g.key = prefix;
        g.count = 1;
        out.push_back(g);
        last = prefix;
      }
    }
  } else if (packed_) {
    const int shift = bits_ * (max_order_ - n);
    const u128 sym_mask = (u128(1) << bits_) - 1;
    for (const u128 k : keys_) {
      const u128 prefix = k >> shift;
      if ((prefix & sym_mask) == 0) continue;  // window shorter than n
      if (!out.empty() && out.back().key == prefix) {
        ++out.back().count;
      } else {
        NgramGroup g;
        g.key = prefix;
        g.count = 1;
        out.push_back(g);
      }
    }
  } else {
    const std::size_t nn = static_cast<std::size_t>(n);
    for (const std::uint32_t p : order_) {
      if (len_ - p < nn) continue;
      if (!out.empty() && std::equal(syms_ + p, syms_ + p + nn, syms_ + out.back().pos)) {
        ++out.back().count;
      } else {
        NgramGroup g;
        g.pos = p;
        g.count = 1;
        out.push_back(g);
      }
    }
  }
}

std::uint64_t NgramIndex::clipped_matches_narrow(int n, const NgramIndex& other) const {
  const int shift = bits_ * (max_order_ - n);
  const std::uint64_t sym_mask = (std::uint64_t(1) << bits_) - 1;
  const std::uint64_t* a = keys64_.data();
  const std::uint64_t* b = other.keys64_.data();
  const std::size_t na = len_, nb = other.len_;  // (keys64_ may end with a sentinel)
  std::size_t i = 0, j = 0;
  std::uint64_t m = 0;
  while (i < na && j < nb) {
    const std::uint64_t pa = a[i] >> shift;
    if ((pa & sym_mask) == 0) {
      ++i;
      continue;
    }
    const std::uint64_t pb = b[j] >> shift;
    if ((pb & sym_mask) == 0) {
      ++j;
      continue;
    }
    if (pa < pb) {
      ++i;
    } else if (pb < pa) {
      ++j;
    } else {
      std::uint64_t ca = 0, cb = 0;
      while (i < na && (a[i] >> shift) == pa) {
        ++ca;
        ++i;
      }
      while (j < nb && (b[j] >> shift) == pb) {
        ++cb;
        ++j;
      }
      m += std::min(ca, cb);
    }
  }
  return m;
}

void NgramIndex::clipped_matches_narrow_all(const NgramIndex& other, std::uint64_t* matches) const {
  const int orders = max_order_;
  const std::size_t na = len_, nb = other.len_;
  if (orders > 8 || max_order_ * bits_ >= 64) {  // no sentinel, or more than 8 lanes: order by order
    for (int n = 1; n <= orders; ++n) matches[n - 1] = clipped_matches_narrow(n, other);
    return;
  }
  const std::uint64_t* a = keys64_.data();
  const std::uint64_t* b = other.keys64_.data();
  // Lane o (two 4-lane vectors) counts, in the current group of order o + 1, the n-grams of each side.
  typedef std::int32_t v4 __attribute__((vector_size(16)));
  struct Lanes {
    v4 lo, hi;
  };
  static const auto lane_masks = [] {  // [k]: lanes o < k set (all ones), for k = 0..8
    std::array<Lanes, 9> t{};
    for (int k = 0; k <= 8; ++k) {
      for (int o = 0; o < 4; ++o) {
        t[static_cast<std::size_t>(k)].lo[o] = o < k ? -1 : 0;
        t[static_cast<std::size_t>(k)].hi[o] = o + 4 < k ? -1 : 0;
      }
    }
    return t;
  }();
  v4 ca_lo{}, ca_hi{}, cb_lo{}, cb_hi{}, m_lo{}, m_hi{};
  std::uint64_t prev = 0;
  std::size_t i = 0, j = 0;
  for (std::size_t t = 0; t < na + nb; ++t) {
    const std::uint64_t ka = a[i], kb = b[j];
    const bool from_a = ka <= kb;
    const std::uint64_t k = from_a ? ka : kb;
    i += from_a;
    j += !from_a;
    const std::uint64_t x = k ^ prev;
    prev = k;
    const Lanes& keep = lane_masks[common_of_high_bit_[x ? 64 - __builtin_clzll(x) : 0]];  // groups that go on
    const Lanes& in = lane_masks[orders_of_trailing_zeros_[__builtin_ctzll(k)]];           // orders k has
    m_lo += ~keep.lo & (ca_lo < cb_lo ? ca_lo : cb_lo);
    m_hi += ~keep.hi & (ca_hi < cb_hi ? ca_hi : cb_hi);
    const std::int32_t sel_a = -static_cast<std::int32_t>(from_a);
    ca_lo = (ca_lo & keep.lo) - (in.lo & sel_a);
    ca_hi = (ca_hi & keep.hi) - (in.hi & sel_a);
    cb_lo = (cb_lo & keep.lo) - (in.lo & ~sel_a);
    cb_hi = (cb_hi & keep.hi) - (in.hi & ~sel_a);
  }
  m_lo += ca_lo < cb_lo ? ca_lo : cb_lo;
  m_hi += ca_hi < cb_hi ? ca_hi : cb_hi;
  for (int o = 0; o < orders; ++o) matches[o] = static_cast<std::uint64_t>(o < 4 ? m_lo[o] : m_hi[o - 4]);
}

int NgramIndex::compare(int n, const NgramGroup& a, const NgramIndex& other, const NgramGroup& b) const {
  if (packed_) return a.key < b.key ? -1 : (b.key < a.key ? 1 : 0);
  const std::uint32_t* x = syms_ + a.pos;
  const std::uint32_t* y = other.syms_ + b.pos;
  for (int i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

std::uint64_t clipped_matches(int n, const NgramIndex& ia, const std::vector<NgramGroup>& a,
                              const NgramIndex& ib, const std::vector<NgramGroup>& b) {
  std::uint64_t m = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const int c = ia.compare(n, a[i], ib, b[j]);
    if (c < 0) {
      ++i;
    } else if (c > 0) {
      ++j;
    } else {
      m += std::min(a[i].count, b[j].count);
      ++i;
      ++j;
    }
  }
  return m;
}

}  // namespace gnmt::detail
