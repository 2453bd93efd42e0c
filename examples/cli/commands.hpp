#pragma once
// The deepid tool's subcommands and the small option parser they share.
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <deepid/core/config.hpp>

#define DEEPID_CLI_STR_(x) #x
#define DEEPID_CLI_STR(x) DEEPID_CLI_STR_(x)
#define DEEPID_CLI_VERSION \
  DEEPID_CLI_STR(DEEPID_VERSION_MAJOR) "." DEEPID_CLI_STR(DEEPID_VERSION_MINOR) "." DEEPID_CLI_STR(DEEPID_VERSION_PATCH)

namespace deepid_cli {

// A mistake in the command line (exit status 2); run-time failures throw
// deepid::error (exit status 1).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using arguments = std::span<char* const>;

// `text` as an integer from min to max; `what` names it in the error
// ("--patches", "--schedule step:E").
inline std::uint64_t parse_integer(const std::string& what, std::string_view text, std::uint64_t min, std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    throw usage_error(what + " '" + std::string(text) + "' is not an integer from " + std::to_string(min) + " to " +
                      std::to_string(max));
  return value;
}

struct options {
  std::string command;
  std::map<std::string, std::string, std::less<>> values;
  bool help = false;

  bool has(std::string_view name) const { return values.find(name) != values.end(); }
  const std::string& required(std::string_view name) const {
    const auto it = values.find(name);
    if (it == values.end())
      throw usage_error("'deepid " + command + "' needs --" + std::string(name) + " (see 'deepid help " + command + "')");
    return it->second;
  }
  std::uint64_t integer(std::string_view name, std::uint64_t fallback, std::uint64_t min, std::uint64_t max) const {
    const auto it = values.find(name);
    if (it == values.end()) return fallback;
    return parse_integer("--" + std::string(name), it->second, min, max);
  }
};

// Parses "--name value" and "--name=value" for the names allowed; "--help"
// or "-h" asks for the command's help.
// Names in `repeatable` may be given several times (values joined by ','),
// names in `flags` take no value.
inline options parse_options(std::string command, arguments args, std::initializer_list<std::string_view> allowed,
                             std::initializer_list<std::string_view> repeatable = {},
                             std::initializer_list<std::string_view> flags = {}) {
  options result;
  result.command = std::move(command);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      result.help = true;
      continue;
    }
    if (arg.size() < 3 || arg.substr(0, 2) != "--")
      throw usage_error("unexpected argument '" + std::string(arg) + "' for 'deepid " + result.command +
                        "' (see 'deepid help " + result.command + "')");
    std::string name(arg.substr(2)), value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    bool known = false;
    for (auto a : allowed) known = known || a == name;
    if (!known)
      throw usage_error("unknown option '--" + name + "' for 'deepid " + result.command + "' (see 'deepid help " +
                        result.command + "')");
    bool is_flag = false;
    for (auto f : flags) is_flag = is_flag || f == name;
    if (is_flag) {
      if (has_value) throw usage_error("option '--" + name + "' takes no value");
      value = "1";
      has_value = true;
    }
    if (!has_value) {
      if (i + 1 >= args.size() || std::string_view(args[i + 1]).substr(0, 2) == "--")
        throw usage_error("option '--" + name + "' needs a value");
      value = args[++i];
    }
    if (value.empty()) throw usage_error("option '--" + name + "' needs a non-empty value");
    bool repeats = false;
    for (auto r : repeatable) repeats = repeats || r == name;
    if (repeats && result.values.count(name)) {
      result.values[name] += "," + value;
      continue;
    }
    if (!result.values.emplace(name, value).second) throw usage_error("option '--" + name + "' is given twice");
  }
  return result;
}

int run_info(arguments args);
int run_forward(arguments args);
int run_export(arguments args);
int run_patches(arguments args);
int run_features(arguments args);
int run_eval_lfw(arguments args);
int run_train(arguments args);
int run_quickstart(arguments args);
int run_verify(arguments args);

extern const char* const info_usage;
extern const char* const forward_usage;
extern const char* const export_usage;
extern const char* const patches_usage;
extern const char* const features_usage;
extern const char* const eval_lfw_usage;
extern const char* const train_usage;
extern const char* const quickstart_usage;
extern const char* const verify_usage;

}  // namespace deepid_cli
