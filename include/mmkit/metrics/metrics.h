// Backtest metrics from the recorded samples and fills (definitions in docs/metrics.md).
#pragma once

#include "mmkit/core/instrument.h"
#include "mmkit/engine/engine.h"

namespace mmkit::metrics {

/// Fills result.metrics from result.samples, result.fills and result.orders. Deterministic.
void compute_metrics(engine::BacktestResult& result, const engine::EngineConfig& config,
                     const InstrumentSpec& spec, std::uint64_t events);

}  // namespace mmkit::metrics
