// /proc/TID/stat field 39 is the CPU the thread last ran on: what getcpu() would have said.
#include "emulator/clock/time_source.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "emulator/trace/maps.h"
#include "vdso/clock_read.h"

namespace emulator {

timespec HostTimeSource::transformed(int clock, timespec ts) const {
  if (transform_ == nullptr || !transform_->transforms(clock)) return ts;
  const int64_t v = transform_->to_virtual(clock, ts.tv_sec * 1000000000LL + ts.tv_nsec);
  int64_t sec = v / 1000000000LL;
  int64_t nsec = v % 1000000000LL;
  if (nsec < 0) {
    nsec += 1000000000LL;
    --sec;
  }
  return timespec{sec, nsec};
}

timespec HostTimeSource::realtime() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return transformed(CLOCK_REALTIME, ts);
}

timespec HostTimeSource::realtime_coarse() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return transformed(CLOCK_REALTIME_COARSE, ts);
}

timespec VvarTimeSource::realtime() {
  vdso::KernelTimespec ts{};
  if (!vdso::read_hres(vvar_, vdso::kClockRealtime, &ts)) return HostTimeSource::realtime();
  return timespec{ts.tv_sec, ts.tv_nsec};
}

struct timezone VvarTimeSource::timezone() {
  vdso::KernelTimezone tz{};
  if (!vdso::read_timezone(vvar_, &tz)) return HostTimeSource::timezone();
  struct timezone out {};
  out.tz_minuteswest = tz.tz_minuteswest;
  out.tz_dsttime = tz.tz_dsttime;
  return out;
}

struct timezone HostTimeSource::timezone() {
  struct timezone tz {};
  // glibc declares gettimeofday()'s first argument nonnull; the syscall takes NULL.
  syscall(SYS_gettimeofday, nullptr, &tz);
  return tz;
}

unsigned HostTimeSource::cpu() {
  if (cpu_ >= 0) return static_cast<unsigned>(cpu_);
  cpu_ = 0;
  auto stat = read_text_file("/proc/" + std::to_string(tid_) + "/stat");
  if (!stat) return 0;
  // The comm field may hold spaces and parentheses: count fields after the last ')'.
  size_t p = stat->rfind(')');
  if (p == std::string::npos) return 0;
  int field = 2;
  for (size_t i = p + 1; i < stat->size(); ++i) {
    if ((*stat)[i] == ' ') {
      ++field;
      if (field == 39) {
        cpu_ = std::atoi(stat->c_str() + i + 1);
        break;
      }
    }
  }
  return static_cast<unsigned>(cpu_);
}

unsigned HostTimeSource::node() {
  const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu());
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  unsigned node = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("node", 0) == 0 && name.size() > 4 && name[4] >= '0' && name[4] <= '9') {
      node = static_cast<unsigned>(std::atoi(name.c_str() + 4));
      break;
    }
  }
  closedir(d);
  return node;
}

}  // namespace emulator
