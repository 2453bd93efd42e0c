#pragma once
// SIGINT during training: the first Ctrl-C asks the trainer to finish the
// current batch, write a checkpoint and return; a second one ends the
// process as usual.
#include <atomic>
#include <csignal>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN
namespace train {

namespace detail {
inline std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}
extern "C" inline void on_interrupt(int) {
  if (interrupt_flag().exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}
}  // namespace detail

inline void install_interrupt_handler() { std::signal(SIGINT, detail::on_interrupt); }
inline bool interrupt_requested() { return detail::interrupt_flag().load(); }
inline void request_interrupt() { detail::interrupt_flag() = true; }
inline void clear_interrupt() { detail::interrupt_flag() = false; }

}  // namespace train
DEEPID_NAMESPACE_END
