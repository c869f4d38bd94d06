// sacreBLEU's text/JSON rendering of a score (metrics/base.py: Score.format, Signature.format),
// with Python's float formatting reproduced exactly.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gnmt {

inline constexpr const char* kSacreBleuVersion = "2.6.0";

// Python f"{x:.{width}f}".
std::string format_fixed(double x, int width);

// Python repr(float) (shortest round-trip, "1e-05" / "100.0" style), as json.dumps writes it.
std::string python_float_repr(double x);

// JSON string literal as json.dumps(..., ensure_ascii=False) writes it (with quotes).
std::string json_quote(std::string_view s);

// One signature field: long name, short (abbreviated) name, value.
struct SignatureField {
  std::string name, abbr, value;
};

// Signature.format(): "nrefs:1|case:mixed|...|version:2.6.0" ("#:1|c:mixed|...|v:2.6.0" if short).
std::string format_signature(const std::vector<SignatureField>& fields, bool short_form);

// Score.format(width, score_only, signature, is_json): the text line
// "NAME|SIGNATURE = SCORE VERBOSE", the bare score, or the json.dumps(indent=1) object.
std::string format_score(std::string_view name, double score, std::string_view verbose, int width,
                         bool score_only, std::string_view signature, bool is_json);

}  // namespace gnmt
