// Real market data for tests: where it is and what to do when it is missing
// (CONVENTIONS: skip with a message outside CI, fail under CI=true).
#pragma once

#include <cstdlib>
#include <string>

namespace mmkit::test {

/// MMKIT_DATA_DIR, else ../shared/data beside the repository root (MMKIT_SOURCE_DIR).
inline std::string data_dir() {
  if (const char* d = std::getenv("MMKIT_DATA_DIR"); d != nullptr && *d != '\0') return d;
  return std::string(MMKIT_SOURCE_DIR) + "/../shared/data";
}

/// True when the tests run in CI (CI=true), where missing real data is a failure.
inline bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace mmkit::test
