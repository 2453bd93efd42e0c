#pragma once
// Progress of a long job over many items (faces, batches, epochs): items done
// out of the total, the rate and the time left.
//
// On a terminal the bar redraws one line in place, at most ten times a second:
//
//   LBP features [############............] 6617/13233  50.0%  812.4 faces/s  ETA 0:08
//
// When the stream is not a terminal (a log file, CI, a pipe) it writes a plain
// line every `interval_s` seconds instead, so logs stay readable:
//
//   LBP features: 6617/13233 (50.0%), 812.4 faces/s, ETA 0:08
//
// Thread-safe: workers may report from many threads at once. The callback form
// (`progress_callback`) is what long-running deepid functions accept.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#define DEEPID_HAS_ISATTY 1
#else
#define DEEPID_HAS_ISATTY 0
#endif

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN

// Called as progress(done, total) while a job runs; `done` never decreases.
// Long-running functions call it from their worker threads one call at a
// time. Throwing from it cancels the job (the exception reaches the caller).
using progress_callback = std::function<void(std::size_t done, std::size_t total)>;

enum class progress_style {
  automatic,  // redrawn bar on a terminal, plain periodic lines otherwise
  bar,        // always the redrawn bar
  lines,      // always plain periodic lines
  silent      // nothing
};

struct progress_options {
  std::string unit = "items";  // "faces" gives "812.4 faces/s"
  progress_style style = progress_style::automatic;
  double interval_s = 10.0;  // between plain lines
  int width = 24;            // characters of the bar
};

// "1:05:09", "2:07", "0:03"; "--:--" when unknown (not finite or negative).
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long s = std::lround(seconds);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

class progress_bar {
 public:
  using clock = std::chrono::steady_clock;

  progress_bar(std::string label, std::size_t total, progress_options options = {}, std::FILE* out = stderr)
      : label_(std::move(label)), total_(total), o_(std::move(options)), out_(out), start_(clock::now()) {
    style_ = o_.style;
    if (style_ == progress_style::automatic) style_ = is_terminal(out_) ? progress_style::bar : progress_style::lines;
    if (!out_) style_ = progress_style::silent;
    last_ = start_;
  }
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;
  ~progress_bar() { finish(); }

  // Sets the count done (absolute); smaller values than already seen are ignored.
  void update(std::size_t done) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    done_ = std::max(done_, std::min(done, total_));
    const auto now = clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    const double due = style_ == progress_style::bar ? 0.1 : o_.interval_s;
    if (since >= due || (style_ == progress_style::bar && done_ == total_)) {
      last_ = now;
      print(now);
    }
  }
  void advance(std::size_t n = 1) {
    std::size_t done;
    {
      std::lock_guard lock(mutex_);
      done = done_ + n;
    }
    update(done);
  }

  // The final line (elapsed time and mean rate); printed once, also by the destructor.
  void finish() {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (style_ == progress_style::silent) return;
    const double elapsed = seconds_since_start(clock::now());
    const std::string rate = rate_text(done_, elapsed);
    if (style_ == progress_style::bar)
      std::fprintf(out_, "\r%s [%s] %zu/%zu in %s, %s\033[K\n", label_.c_str(), bar_text().c_str(), done_, total_,
                   format_duration(elapsed).c_str(), rate.c_str());
    else
      std::fprintf(out_, "%s: %zu/%zu done in %s, %s\n", label_.c_str(), done_, total_, format_duration(elapsed).c_str(),
                   rate.c_str());
    std::fflush(out_);
  }

  // For functions that take a `progress_callback`; the bar must outlive the job.
  progress_callback callback() {
    return [this](std::size_t done, std::size_t) { update(done); };
  }

  // Extra text shown after the rate (e.g. "loss 2.31 top-1 err 41.2%").
  void set_status(std::string status) {
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
  }

  std::size_t done() const {
    std::lock_guard lock(mutex_);
    return done_;
  }
  std::size_t total() const { return total_; }
  progress_style style() const { return style_; }

  static bool is_terminal(std::FILE* f) {
#if DEEPID_HAS_ISATTY
    return f && ::isatty(::fileno(f));
#else
    (void)f;
    return false;
#endif
  }

 private:
  double seconds_since_start(clock::time_point now) const { return std::chrono::duration<double>(now - start_).count(); }

  std::string rate_text(std::size_t done, double elapsed) const {
    char text[64];
    const double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
    std::snprintf(text, sizeof text, "%.1f %s/s", rate, o_.unit.c_str());
    return text;
  }

  std::string bar_text() const {
    const double fraction = total_ ? double(done_) / double(total_) : 1.0;
    std::string bar(std::size_t(std::lround(fraction * std::max(o_.width, 1))), '#');
    bar.resize(std::size_t(std::max(o_.width, 1)), '.');
    return bar;
  }

  void print(clock::time_point now) {
    if (style_ == progress_style::silent) return;
    const double elapsed = seconds_since_start(now);
    const double rate = elapsed > 0 ? double(done_) / elapsed : 0.0;
    const double eta = rate > 0 ? double(total_ - done_) / rate : -1.0;
    const double fraction = total_ ? double(done_) / double(total_) : 1.0;
    const std::string rate_str = rate_text(done_, elapsed);
    if (style_ == progress_style::bar) {
      std::fprintf(out_, "\r%s [%s] %zu/%zu %5.1f%%  %s  ETA %s%s%s\033[K", label_.c_str(), bar_text().c_str(), done_,
                   total_, 100.0 * fraction, rate_str.c_str(), format_duration(eta).c_str(), status_.empty() ? "" : "  ",
                   status_.c_str());
    } else {
      std::fprintf(out_, "%s: %zu/%zu (%.1f%%), %s, ETA %s%s%s\n", label_.c_str(), done_, total_, 100.0 * fraction,
                   rate_str.c_str(), format_duration(eta).c_str(), status_.empty() ? "" : ", ", status_.c_str());
    }
    std::fflush(out_);
  }

  std::string label_;
  std::size_t total_;
  progress_options o_;
  std::FILE* out_;
  progress_style style_;
  clock::time_point start_, last_;
  std::size_t done_ = 0;
  std::string status_;
  bool finished_ = false;
  mutable std::mutex mutex_;
};

DEEPID_NAMESPACE_END
