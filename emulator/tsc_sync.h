// Does the TSC agree across CPUs? The supervisor's own check, for clocksources that hide the
// TSC behind a paravirtual clock (clock_choice.h): the kernel's TSC warp test, run in
// userspace between pinned threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace emulator {

// The CPUs the calling thread may run on (sched_getaffinity), in order.
std::vector<int> allowed_cpus();
// Pins the calling thread to one CPU; false if that is not allowed.
bool pin_to_cpu(int cpu);
// Lets the calling thread run on all of `cpus` again.
void unpin(const std::vector<int>& cpus);

struct TscWarpResult {
  bool agree = true;
  uint64_t handoffs = 0;  // times the shared TSC value passed from one CPU to the other
  uint64_t max_warp = 0;  // the largest backwards step seen, in cycles (0 if none)
  int warp_cpu = -1;      // the CPU paired with cpus[0] that showed it
  std::string detail;     // one line for the log
};

// Like the kernel's check_tsc_warp(): for each CPU paired with cpus[0], two threads pinned to
// the pair take turns, under a lock, reading the TSC and storing it; a value lower than the
// one the other CPU stored before is a warp. Each pair runs for `per_pair`. A pair with too
// few handoffs to judge (a CPU that never ran the thread) counts as agreeing but is named in
// `detail`. Leaves the calling thread unpinned.
TscWarpResult tsc_warp_test(const std::vector<int>& cpus, std::chrono::microseconds per_pair);

}  // namespace emulator
