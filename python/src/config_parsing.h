// Internal header of the nanobind module (not installed): the parsers of `mmkit backtest`'s
// config tables and the result / params converters, defined in python/src/backtest_bindings.cpp
// and shared by the other binding files, so that every table has one parser (keys checked
// against the C++ struct they fill; unknown keys are mmkit::Error naming them). Tables arrive as
// plain dicts (TOML tables; lists for TOML arrays). Call with the GIL held.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <string>
#include <vector>

#include "mmkit/core/instrument.h"
#include "mmkit/core/types.h"
#include "mmkit/data/source.h"
#include "mmkit/engine/engine.h"
#include "mmkit/sim/synthetic_market.h"
#include "mmkit/strategy/strategy.h"

namespace mmkit::python {

/// The [synthetic] table of the default ("cst") mode -> sim::SyntheticMarketConfig: "preset"
/// (default sim::kDefaultSyntheticPreset) overridden by the other keys (scalars, limit_rates,
/// cancel_rates, hawkes_*, regimes, regime_transition, initial_regime; docs/synthetic_market.md).
[[nodiscard]] sim::SyntheticMarketConfig backtest_synthetic_config(const nanobind::dict& table);
/// The input of a backtest: data files (with the [source] table) or, with no path, the default
/// synthetic market.
[[nodiscard]] std::unique_ptr<data::EventSource> backtest_open_input(const std::vector<std::string>& paths,
                                                                     const nanobind::dict& source);
/// The [engine] table -> engine::EngineConfig (quantities in the instrument's decimal units).
[[nodiscard]] engine::EngineConfig backtest_engine_config(const nanobind::dict& table, const InstrumentSpec& spec);
/// The [strategy] table -> strategy::Params, and back.
[[nodiscard]] strategy::Params backtest_params(const nanobind::dict& table);
[[nodiscard]] nanobind::dict backtest_params_dict(const strategy::Params& p);
/// Backtest.result()'s dict of a finished (or stepped) engine.
[[nodiscard]] nanobind::dict backtest_result_dict(engine::Engine& engine, const std::vector<TimestampNs>& horizons);
[[nodiscard]] nanobind::dict backtest_profile_dict(const strategy::MarketProfile& p);
/// The instrument as a dict: symbol, venue, currency (str); price_decimals, qty_decimals (int);
/// tick_size, lot_size (str, exact decimal).
[[nodiscard]] nanobind::dict backtest_instrument_dict(const InstrumentSpec& s);

}  // namespace mmkit::python
