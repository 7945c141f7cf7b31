#include "mmkit/core/instrument.h"

#include "mmkit/core/decimal.h"

namespace mmkit {
namespace {
// Fewest fractional digits that print `step` (raw units at `decimals`) exactly.
int display_decimals(std::int64_t step, int decimals) noexcept {
  if (step <= 0) return decimals;
  int d = decimals;
  while (d > 0 && step % 10 == 0) {
    step /= 10;
    --d;
  }
  return d;
}
}  // namespace

int InstrumentSpec::price_display_decimals() const noexcept {
  return display_decimals(tick_size, price_decimals);
}
int InstrumentSpec::qty_display_decimals() const noexcept {
  return display_decimals(lot_size, qty_decimals);
}
double InstrumentSpec::price_to_double(Price p) const noexcept {
  return static_cast<double>(p) / static_cast<double>(pow10(price_decimals));
}
double InstrumentSpec::qty_to_double(Qty q) const noexcept {
  return static_cast<double>(q) / static_cast<double>(pow10(qty_decimals));
}

}  // namespace mmkit
