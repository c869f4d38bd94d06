#include "eval/score_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gnmt {

std::string format_fixed(double x, int width) {
  if (width < 0) width = 0;
  const int n = std::snprintf(nullptr, 0, "%.*f", width, x);
  std::string out(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), "%.*f", width, x);
  out.resize(static_cast<std::size_t>(n));
  // glibc and Python agree ("nan", "inf"); Python has no "-nan".
  if (out == "-nan") out = "nan";
  return out;
}

std::string python_float_repr(double x) {
  if (std::isnan(x)) return "NaN";  // json.dumps spelling
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x == 0.0) return std::signbit(x) ? "-0.0" : "0.0";
  // Shortest %.Ne that round-trips (glibc rounds correctly, as Python's dtoa does).
  char buf[64];
  for (int prec = 0; prec < 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  std::string s(buf);
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  const std::size_t epos = s.find('e');
  const int exp10 = std::atoi(s.c_str() + epos + 1);
  std::string digits;
  for (std::size_t i = 0; i < epos; ++i) {
    if (s[i] != '.') digits.push_back(s[i]);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int nd = static_cast<int>(digits.size());
  const int decpt = exp10 + 1;
  std::string out = sign;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
    } else if (decpt >= nd) {
      out += digits + std::string(static_cast<std::size_t>(decpt - nd), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(decpt)) + "." + digits.substr(static_cast<std::size_t>(decpt));
    }
  } else {
    out += digits.substr(0, 1);
    if (nd > 1) out += "." + digits.substr(1);
    const int e = decpt - 1;
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    out += ebuf;
  }
  return out;
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string format_signature(const std::vector<SignatureField>& fields, bool short_form) {
  std::string out;
  for (const SignatureField& f : fields) {
    if (!out.empty()) out.push_back('|');
    out += short_form ? f.abbr : f.name;
    out.push_back(':');
    out += f.value;
  }
  return out;
}

std::string format_score(std::string_view name, double score, std::string_view verbose, int width,
                         bool score_only, std::string_view signature, bool is_json) {
  const std::string sc = format_fixed(score, width);
  if (score_only) return sc;
  if (is_json) {
    std::vector<std::pair<std::string, std::string>> d;  // key -> already-encoded JSON value
    d.emplace_back("name", json_quote(name));
    d.emplace_back("score", python_float_repr(std::strtod(sc.c_str(), nullptr)));
    d.emplace_back("signature", json_quote(signature));
    if (!verbose.empty()) d.emplace_back("verbose_score", json_quote(verbose));
    std::size_t start = 0;
    while (!signature.empty() && start <= signature.size()) {
      std::size_t bar = signature.find('|', start);
      if (bar == std::string_view::npos) bar = signature.size();
      const std::string_view param = signature.substr(start, bar - start);
      const std::size_t colon = param.find(':');
      if (colon != std::string_view::npos) {
        const std::string key(param.substr(0, colon));
        const std::string value = json_quote(param.substr(colon + 1));
        bool replaced = false;
        for (auto& kv : d) {
          if (kv.first == key) {
            kv.second = value;
            replaced = true;
          }
        }
        if (!replaced) d.emplace_back(key, value);
      }
      start = bar + 1;
    }
    std::string out = "{\n";
    for (std::size_t i = 0; i < d.size(); ++i) {
      out += " " + json_quote(d[i].first) + ": " + d[i].second;
      out += i + 1 < d.size() ? ",\n" : "\n";
    }
    out += "}";
    return out;
  }
  std::string line(name);
  if (!signature.empty()) {
    line += "|";
    line += signature;
  }
  line += " = " + sc;
  if (!verbose.empty()) {
    line += " ";
    line += verbose;
  }
  return line;
}

}  // namespace gnmt
