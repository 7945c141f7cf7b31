// The [strategy] name, [strategy.params], [engine] keys and [modules.NAME] settings of an example
// config (configs/*.toml), read with the minimal TOML subset those files use (key = "string" |
// true | false | integer | float, # comments), for the tests that check every config lists its
// strategy's parameters.
// Malformed lines are test failures. (The product itself reads configs with Python's tomllib.)
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "mmkit/strategy/strategy.h"

namespace mmkit::test {

using strategy::ParamValue;
using strategy::Params;

struct ConfigFile {
  std::string name;
  Params params;
  std::vector<std::string> engine_keys;
  Params modules;                  ///< [modules.NAME] key = v as "NAME.key" (docs/modules.md)
  std::set<std::string> examples;  ///< the `modules` keys whose line comment says "example"
};

inline ConfigFile read_config(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  ConfigFile c;
  std::string line, section;
  const auto trim = [](std::string t) {
    const auto b = t.find_first_not_of(" \t"), e = t.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    std::string comment;
    bool in_str = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '"') in_str = !in_str;
      if (line[i] == '#' && !in_str) {
        comment = line.substr(i);
        line.resize(i);
        break;
      }
    }
    line = trim(line);
    if (line.empty()) continue;
    if (line.front() == '[') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto eq = line.find('=');
    EXPECT_NE(eq, std::string::npos) << path << ": " << line;
    const std::string key = trim(line.substr(0, eq)), val = trim(line.substr(eq + 1));
    if (section == "engine") {
      c.engine_keys.push_back(key);
      continue;
    }
    ParamValue v;
    if (val.front() == '"') {
      v = val.substr(1, val.size() - 2);
    } else if (val == "true" || val == "false") {
      v = val == "true";
    } else if (val.find_first_of(".eE") != std::string::npos) {
      v = std::stod(val);
    } else {
      v = static_cast<std::int64_t>(std::stoll(val));
    }
    if (section == "strategy" && key == "name") {
      c.name = std::get<std::string>(v);
    } else if (section == "strategy.params") {
      c.params[key] = v;
    } else if (section.rfind("modules.", 0) == 0) {
      const std::string param = section.substr(8) + "." + key;
      EXPECT_EQ(c.modules.count(param), 0u) << path << ": duplicate " << param;
      c.modules[param] = v;
      if (comment.find("example") != std::string::npos) c.examples.insert(param);
    } else {
      ADD_FAILURE() << path << ": unexpected key " << key << " in [" << section << "]";
    }
  }
  return c;
}

}  // namespace mmkit::test
