#include "mmkit/core/time.h"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <string>

#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"

namespace mmkit {
namespace {
bool two_digits(std::string_view s, std::size_t at, int& out) {
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') {
    return false;
  }
  out = (s[at] - '0') * 10 + (s[at + 1] - '0');
  return true;
}

bool parse_date(std::string_view s, date::year_month_day& out) {
  std::int64_t y = 0;
  int m = 0, d = 0;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!parse_int(s.substr(0, 4), y) || !two_digits(s, 5, m) || !two_digits(s, 8, d)) return false;
  out = date::year_month_day{date::year{static_cast<int>(y)}, date::month{static_cast<unsigned>(m)},
                             date::day{static_cast<unsigned>(d)}};
  return out.ok();
}
}  // namespace

TimestampNs local_midnight_utc_ns(std::string_view date_str, std::string_view tz) {
  date::year_month_day ymd;
  if (!parse_date(date_str, ymd)) {
    throw Error("invalid date '" + std::string(date_str) + "' (expected YYYY-MM-DD)");
  }
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(std::string(tz));
  } catch (const std::exception& e) {
    throw Error("unknown time zone '" + std::string(tz) + "': " + e.what());
  }
  const auto local = date::local_days{ymd};
  const auto utc = zone->to_sys(local, date::choose::earliest);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(utc.time_since_epoch()).count();
}

bool parse_seconds_ns(std::string_view s, std::int64_t& out_ns) noexcept {
  const std::size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (fp.size() > 9) return false;
  std::int64_t secs = 0;
  std::uint64_t frac = 0;
  if (!parse_int(ip, secs) || secs < 0) return false;
  if (!fp.empty() && !parse_uint(fp, frac)) return false;
  out_ns = secs * 1'000'000'000LL +
           static_cast<std::int64_t>(frac) * pow10(9 - static_cast<int>(fp.size()));
  return true;
}

bool parse_iso8601_ns(std::string_view s, TimestampNs& out) noexcept {
  date::year_month_day ymd;
  if (!parse_date(s, ymd)) return false;
  std::int64_t ns = 0;
  std::size_t i = 10;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != ' ') return false;
    int hh = 0, mm = 0, ss = 0;
    if (!two_digits(s, i + 1, hh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !two_digits(s, i + 4, mm)) {
      return false;
    }
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!two_digits(s, i + 1, ss)) return false;
      i += 3;
      if (i < s.size() && s[i] == '.') {
        std::size_t j = i + 1;
        std::uint64_t frac = 0;
        int digits = 0;
        while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
          if (digits < 9) {
            frac = frac * 10 + static_cast<std::uint64_t>(s[j] - '0');
            ++digits;
          }
          ++j;
        }
        if (digits == 0) return false;
        ns += static_cast<std::int64_t>(frac) * pow10(9 - digits);
        i = j;
      }
    }
    if (hh > 23 || mm > 59 || ss > 60) return false;
    ns += (static_cast<std::int64_t>(hh) * 3600 + mm * 60 + ss) * 1'000'000'000LL;
    if (i < s.size()) {
      if (s[i] == 'Z' && i + 1 == s.size()) {
      } else if ((s[i] == '+' || s[i] == '-') && i + 6 == s.size() && s[i + 3] == ':') {
        int oh = 0, om = 0;
        if (!two_digits(s, i + 1, oh) || !two_digits(s, i + 4, om)) return false;
        const std::int64_t off = (static_cast<std::int64_t>(oh) * 3600 + om * 60) * 1'000'000'000LL;
        ns += s[i] == '+' ? -off : off;
      } else {
        return false;
      }
    }
  }
  const auto days = date::sys_days{ymd}.time_since_epoch().count();
  out = static_cast<std::int64_t>(days) * 86'400'000'000'000LL + ns;
  return true;
}

std::string format_utc(TimestampNs ts) {
  using namespace std::chrono;
  const auto tp = sys_time<nanoseconds>{nanoseconds{ts}};
  return date::format("%Y-%m-%dT%H:%M:%SZ", tp);
}

}  // namespace mmkit
