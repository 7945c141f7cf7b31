// Helpers shared by the book and strategy bindings (python/src/{book,strategy}_bindings.cpp):
// sides from strings, exact decimal <-> raw conversions, InstrumentSpec from Python objects.
//
// Units convention of the Python API: prices and quantities are decimal numbers (float) unless
// a name ends in `_raw` or a `raw=True` argument asks for the instrument's int64 raw units
// (decimal = raw × 10^-decimals, InstrumentSpec in mmkit/core/instrument.h).
#pragma once

#include <nanobind/nanobind.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mmkit/book/book.h"
#include "mmkit/core/decimal.h"
#include "mmkit/core/error.h"
#include "mmkit/core/instrument.h"
#include "mmkit/core/types.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::python {

namespace nb = nanobind;

/// "bid" / "buy" -> kBid, "ask" / "sell" -> kAsk; anything else throws mmkit::Error.
inline Side parse_side(std::string_view s) {
  if (s == "bid" || s == "buy") return Side::kBid;
  if (s == "ask" || s == "sell") return Side::kAsk;
  throw Error("side must be 'bid' (or 'buy') or 'ask' (or 'sell'), got '" + std::string(s) + "'");
}

inline const char* side_name(Side s) noexcept {
  return s == Side::kBid ? "bid" : (s == Side::kAsk ? "ask" : "none");
}

/// raw × 10^-decimals as the nearest double (both operands are exact doubles below 2^53, so the
/// IEEE division is correctly rounded and repr() of the result prints the exact decimal).
inline double raw_to_decimal(std::int64_t raw, int decimals) noexcept {
  return static_cast<double>(raw) / static_cast<double>(pow10(decimals));
}

/// A decimal value given from Python -> raw units at `decimals`, exactly:
///   int           the decimal integer (580 -> 580 × 10^decimals); overflow is an error;
///   str, Decimal  parsed exactly (mmkit::parse_decimal): more significant fractional digits
///                 than `decimals` are an error;
///   float         the nearest raw integer when the float is within 16 ulp (or 1e-6 raw) of it,
///                 so 580.12 and 580.11 + 0.01 both give 5801200 at 4 decimals; else an error.
/// `what` names the argument in the error message.
inline std::int64_t decimal_to_raw(nb::handle v, int decimals, const char* what) {
  if (nb::isinstance<nb::bool_>(v)) throw Error(std::string(what) + " must be a number, got a bool");
  if (nb::isinstance<nb::int_>(v)) {
    const std::int64_t i = nb::cast<std::int64_t>(v);
    const std::int64_t scale = pow10(decimals);
    if (i > INT64_MAX / scale || i < INT64_MIN / scale) throw Error(std::string(what) + " is out of range");
    return i * scale;
  }
  if (nb::isinstance<nb::float_>(v)) {
    const double x = nb::cast<double>(v);
    const double r = x * static_cast<double>(pow10(decimals));
    if (!std::isfinite(r) || std::fabs(r) > 9.0e18) throw Error(std::string(what) + " is not finite or out of range");
    const double n = std::nearbyint(r);
    const double tol = std::fmax(1e-6, 16.0 * std::fabs(r) * DBL_EPSILON);
    if (std::fabs(r - n) > tol) {
      throw Error(std::string(what) + " " + nb::cast<std::string>(nb::repr(v)) + " is not a multiple of 10^-" +
                  std::to_string(decimals) + " (the instrument's decimals); round it or pass a str");
    }
    return static_cast<std::int64_t>(n);
  }
  const std::string s = nb::cast<std::string>(nb::str(v));
  std::int64_t out = 0;
  if (!parse_decimal(s, decimals, out)) {
    throw Error(std::string(what) + " '" + s + "' is not a decimal with at most " + std::to_string(decimals) +
                " significant fractional digits");
  }
  return out;
}

/// InstrumentSpec from an InstrumentSpec, a dict (the `instrument` dict of mmkit.open_source /
/// Backtest: tick_size and lot_size as raw ints or as decimal strings), or any object with an
/// `instrument` attribute holding one of those. Throws mmkit::Error on anything else.
InstrumentSpec spec_from(nb::handle obj);

/// (price, qty) as decimals, or raw ints when `raw`; None for a level that does not exist.
inline nb::object level_tuple(const book::Level& l, const InstrumentSpec& s, bool raw) {
  if (l.price == kNoPrice) return nb::none();
  if (raw) return nb::make_tuple(l.price, l.qty);
  return nb::make_tuple(raw_to_decimal(l.price, s.price_decimals), raw_to_decimal(l.qty, s.qty_decimals));
}

/// Decimal mid from a raw-unit mid (NaN stays NaN).
inline double mid_decimal(double raw_mid, const InstrumentSpec& s) noexcept {
  return raw_mid / static_cast<double>(pow10(s.price_decimals));
}

/// A read-only Python view (mmkit._core.BookView) of a strategy::BookView that lives inside the
/// C++ object `owner` keeps alive (e.g. the local book of a Backtest's engine).
nb::object make_book_view(const strategy::BookView& view, const InstrumentSpec& spec, nb::handle owner);

/// Wraps a Python mmkit.Strategy (an instance of the bound _core.Strategy, i.e. of a Python
/// subclass) into a strategy::Strategy the engine owns. The returned object holds a reference to
/// `obj`; its callbacks take the GIL. Throws a Python TypeError when `obj` is not a Strategy.
std::unique_ptr<strategy::Strategy> adopt_python_strategy(nb::handle obj);

}  // namespace mmkit::python
