// Instrument specification: the scales that turn raw integer prices and quantities into
// decimals, and the venue's tick and lot.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "mmkit/core/types.h"

namespace mmkit {

/// Trivially copyable so it can be written verbatim into event-file headers.
///   decimal price = raw × 10^-price_decimals; tick_size is in raw price units.
///   decimal qty   = raw × 10^-qty_decimals;   lot_size is in raw quantity units.
/// Examples: LOBSTER (price_decimals 4, tick 100 = $0.01, qty_decimals 0, lot 1);
/// Databento (price_decimals 9); Binance (price_decimals 8, qty_decimals 8, tick and lot from data).
struct InstrumentSpec {
  char symbol[24] = {};
  char venue[24] = {};
  char currency[8] = {};
  std::int32_t price_decimals = 0;
  std::int32_t qty_decimals = 0;
  Price tick_size = 1;
  Qty lot_size = 1;
  std::uint32_t instrument_id = 0;  ///< venue's numeric id (Databento), 0 if none
  /// Currency value of one unit of price × one unit of quantity (futures: ES 50 USD per index
  /// point and contract); 0 means 1 (spot, equities, linear perpetuals quoted per coin).
  std::uint32_t contract_multiplier = 0;

  [[nodiscard]] std::string symbol_str() const { return std::string(symbol, strnlen(symbol, sizeof symbol)); }
  [[nodiscard]] std::string venue_str() const { return std::string(venue, strnlen(venue, sizeof venue)); }
  [[nodiscard]] std::string currency_str() const {
    return std::string(currency, strnlen(currency, sizeof currency));
  }
  void set_symbol(std::string_view s) { copy_into(symbol, sizeof symbol, s); }
  void set_venue(std::string_view s) { copy_into(venue, sizeof venue, s); }
  void set_currency(std::string_view s) { copy_into(currency, sizeof currency, s); }

  /// Decimal places needed to print a tick (resp. a lot) exactly, e.g. tick 100 at
  /// price_decimals 4 ($0.01) -> 2.
  [[nodiscard]] int price_display_decimals() const noexcept;
  [[nodiscard]] int qty_display_decimals() const noexcept;

  /// Decimal value of a raw price / quantity (for models and reports, never for book code).
  [[nodiscard]] double price_to_double(Price p) const noexcept;
  [[nodiscard]] double qty_to_double(Qty q) const noexcept;
  /// contract_multiplier as a factor (1 when unset).
  [[nodiscard]] double multiplier() const noexcept {
    return contract_multiplier == 0 ? 1.0 : static_cast<double>(contract_multiplier);
  }

 private:
  static void copy_into(char* dst, std::size_t n, std::string_view s) {
    std::memset(dst, 0, n);
    std::memcpy(dst, s.data(), s.size() < n - 1 ? s.size() : n - 1);
  }
};
static_assert(std::is_trivially_copyable_v<InstrumentSpec>);
static_assert(sizeof(InstrumentSpec) == 88);

}  // namespace mmkit
