#include "mmkit/core/decimal.h"

#include <limits>

namespace mmkit {
namespace {
constexpr std::int64_t kPow10[19] = {1LL,
                                     10LL,
                                     100LL,
                                     1000LL,
                                     10000LL,
                                     100000LL,
                                     1000000LL,
                                     10000000LL,
                                     100000000LL,
                                     1000000000LL,
                                     10000000000LL,
                                     100000000000LL,
                                     1000000000000LL,
                                     10000000000000LL,
                                     100000000000000LL,
                                     1000000000000000LL,
                                     10000000000000000LL,
                                     100000000000000000LL,
                                     1000000000000000000LL};
}  // namespace

std::int64_t pow10(int n) noexcept { return (n >= 0 && n <= 18) ? kPow10[n] : 0; }

bool parse_uint(std::string_view s, std::uint64_t& out) noexcept {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

bool parse_int(std::string_view s, std::int64_t& out) noexcept {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  std::uint64_t u = 0;
  if (!parse_uint(s, u)) return false;
  const std::uint64_t limit =
      neg ? static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1
          : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (u > limit) return false;
  out = neg ? static_cast<std::int64_t>(0 - u) : static_cast<std::int64_t>(u);
  return true;
}

bool parse_decimal(std::string_view s, int decimals, std::int64_t& out) noexcept {
  if (decimals < 0 || decimals > 18) return false;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  const std::size_t dot = s.find('.');
  std::string_view ip = dot == std::string_view::npos ? s : s.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (ip.empty() && fp.empty()) return false;
  while (fp.size() > static_cast<std::size_t>(decimals) && fp.back() == '0') fp.remove_suffix(1);
  if (fp.size() > static_cast<std::size_t>(decimals)) return false;
  std::uint64_t iv = 0, fv = 0;
  if (!ip.empty() && !parse_uint(ip, iv)) return false;
  if (!fp.empty() && !parse_uint(fp, fv)) return false;
  const std::uint64_t scale = static_cast<std::uint64_t>(kPow10[decimals]);
  fv *= static_cast<std::uint64_t>(kPow10[decimals - static_cast<int>(fp.size())]);
  const std::uint64_t max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (iv > (max - fv) / scale) return false;
  const std::uint64_t v = iv * scale + fv;
  out = neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
  return true;
}

int fractional_digits(std::string_view s) noexcept {
  const std::size_t dot = s.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

void append_decimal(std::string& out, std::int64_t raw, int raw_decimals, int display_decimals) {
  std::uint64_t u = raw < 0 ? 0 - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
  if (raw < 0) out.push_back('-');
  const std::uint64_t scale = static_cast<std::uint64_t>(kPow10[raw_decimals]);
  const std::uint64_t ip = u / scale;
  std::uint64_t fp = u % scale;
  int digits = raw_decimals;
  const std::uint64_t drop = static_cast<std::uint64_t>(kPow10[raw_decimals - display_decimals]);
  if (display_decimals < raw_decimals && fp % drop == 0) {
    fp /= drop;
    digits = display_decimals;
  }
  char tmp[24];
  int n = 0;
  std::uint64_t v = ip;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(tmp[--n]);
  if (digits > 0) {
    out.push_back('.');
    const std::size_t at = out.size();
    out.append(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i) {
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + fp % 10);
      fp /= 10;
    }
  }
}

std::string format_decimal(std::int64_t raw, int raw_decimals, int display_decimals) {
  std::string s;
  append_decimal(s, raw, raw_decimals, display_decimals);
  return s;
}

}  // namespace mmkit
