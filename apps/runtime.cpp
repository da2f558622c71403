// /proc readers, durations, signals, smoothed meters.
#include "apps/runtime.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace vt::apps {

double resident_mb() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  f >> pages_total >> pages_resident;
  return pages_resident * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1 << 20);
}

double peak_resident_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return 0;
}

std::string format_duration(double seconds) {
  long s = static_cast<long>(seconds < 0 ? 0 : seconds);
  const long days = s / 86400;
  s %= 86400;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  if (days == 0) return buf;
  return std::to_string(days) + (days == 1 ? " day, " : " days, ") + buf;
}

double available_memory_bytes() {
  double avail = 0;
  if (FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    long kb = 0;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "MemAvailable: %ld kB", &kb) == 1) avail = kb * 1024.0;
    std::fclose(f);
  }
  if (FILE* f = std::fopen("/sys/fs/cgroup/memory.max", "r")) {  // cgroup v2: "max" or bytes
    char buf[64] = {0};
    if (std::fgets(buf, sizeof buf, f) && buf[0] >= '0' && buf[0] <= '9') {
      double limit = std::strtod(buf, nullptr), used = 0;
      if (FILE* g = std::fopen("/sys/fs/cgroup/memory.current", "r")) {
        if (std::fgets(buf, sizeof buf, g)) used = std::strtod(buf, nullptr);
        std::fclose(g);
      }
      if (avail == 0 || limit - used < avail) avail = std::max(0.0, limit - used);
    }
    std::fclose(f);
  }
  return avail;
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

namespace {
std::atomic<int> g_interrupts{0};
extern "C" void on_interrupt(int) {
  if (g_interrupts.fetch_add(1) >= 1) std::_Exit(130);  // second Ctrl-C: leave now
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() { return g_interrupts.load() > 0; }

void SmoothedValue::update(double v, int64_t n) {
  values_.push_back(v);
  if (values_.size() > window_) values_.pop_front();
  total_ += v * n;
  count_ += n;
}

double SmoothedValue::median() const {
  if (values_.empty()) return 0;
  std::vector<double> v(values_.begin(), values_.end());
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];  // torch.median: the lower of the two middle values
}

}  // namespace vt::apps
