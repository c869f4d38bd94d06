#include "eval/ngram_index.h"

#include <algorithm>
#include <stdexcept>

namespace gnmt::detail {

int bits_for(std::uint32_t max_symbol) {
  int b = 1;
  while (b < 32 && (max_symbol >> b) != 0) ++b;
  return b;
}

void NgramIndex::build(const std::uint32_t* syms, std::size_t len, int max_order, int bits) {
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
    std::sort(keys64_.begin(), keys64_.end());
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

void NgramIndex::groups(int n, std::vector<NgramGroup>& out) const {
  out.clear();
  if (n < 1 || n > max_order_ || static_cast<std::size_t>(n) > len_) return;
  if (narrow_) {
    const int shift = bits_ * (max_order_ - n);
    const std::uint64_t sym_mask = (std::uint64_t(1) << bits_) - 1;
    std::uint64_t last = 0;
    for (const std::uint64_t k : keys64_) {
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
  const std::size_t na = keys64_.size(), nb = other.keys64_.size();
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
