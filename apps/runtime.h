// Process-level helpers for the commands: resident memory, deit-style durations, terminal
// detection, and the Ctrl-C flag the training loop polls.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace vt::apps {

double resident_mb();       // current resident set size (/proc/self/statm)
double peak_resident_mb();  // high-water mark (/proc/self/status VmHWM)
// Memory this process may still use: MemAvailable (/proc/meminfo), lowered to the cgroup's limit
// (memory.max) when one is set; 0 when neither can be read.
double available_memory_bytes();
std::string format_duration(double seconds);  // "0:01:23", "1 day, 3:04:05" (Python's timedelta)
bool stdout_is_terminal();

// SIGINT/SIGTERM set a flag instead of killing the process; the training loop checks it after
// each step, saves a checkpoint and returns. A second Ctrl-C exits at once.
void install_interrupt_handler();
bool interrupted();

// deit's SmoothedValue: the median of a 20-value window and the global average.
class SmoothedValue {
 public:
  explicit SmoothedValue(size_t window = 20) : window_(window) {}
  void update(double v, int64_t n = 1);
  double median() const;
  double global_avg() const { return count_ ? total_ / count_ : 0; }
  double value() const { return values_.empty() ? 0 : values_.back(); }

 private:
  size_t window_;
  std::deque<double> values_;
  double total_ = 0;
  int64_t count_ = 0;
};

}  // namespace vt::apps
