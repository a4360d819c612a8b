// The userspace TSC warp test (see tsc_sync.h).
#include "emulator/tsc_sync.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <thread>

#include "vdso/tsc.h"

namespace emulator {
namespace {

// What the two threads share; the lock orders each read-and-store against the other CPU's.
struct WarpState {
  std::atomic<bool> locked{false};
  uint64_t last_tsc = 0;
  int last_cpu = -1;
  std::atomic<int> ready{0};
  uint64_t handoffs = 0;
  uint64_t max_warp = 0;
};

void lock(WarpState& s) {
  while (s.locked.exchange(true, std::memory_order_acquire)) {
    while (s.locked.load(std::memory_order_relaxed)) vdso::cpu_relax();
  }
}

void unlock(WarpState& s) {
  s.locked.store(false, std::memory_order_release);
}

void run_side(WarpState& s, int side, uint64_t cycles) {
  s.ready.fetch_add(1);
  while (s.ready.load() < 2) vdso::cpu_relax();
  const uint64_t start = vdso::rdtsc_ordered();
  for (;;) {
    lock(s);
    const uint64_t prev = s.last_tsc;
    const int prev_cpu = s.last_cpu;
    const uint64_t now = vdso::rdtsc_ordered();
    s.last_tsc = now;
    s.last_cpu = side;
    if (prev_cpu >= 0 && prev_cpu != side) {
      ++s.handoffs;
      if (prev > now && prev - now > s.max_warp) s.max_warp = prev - now;
    }
    unlock(s);
    if (now - start > cycles) break;
  }
}

// Roughly how many TSC cycles `d` lasts, from a short measurement against steady_clock.
uint64_t cycles_for(std::chrono::microseconds d) {
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t c0 = vdso::rdtsc_ordered();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::microseconds(200)) {
  }
  const uint64_t c1 = vdso::rdtsc_ordered();
  const double per_us = static_cast<double>(c1 - c0) / 200.0;
  return static_cast<uint64_t>(per_us * static_cast<double>(d.count()));
}

}  // namespace

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> out;
  if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) out.push_back(c);
  }
  return out;
}

bool pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

void unpin(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  if (!cpus.empty()) pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

TscWarpResult tsc_warp_test(const std::vector<int>& cpus, std::chrono::microseconds per_pair) {
  TscWarpResult r;
  if (cpus.size() < 2) {
    r.detail = "one CPU: nothing to compare";
    return r;
  }
  const uint64_t cycles = cycles_for(per_pair);
  std::string thin;
  for (size_t i = 1; i < cpus.size(); ++i) {
    if (!pin_to_cpu(cpus[0])) continue;
    WarpState s;
    bool pinned = true;
    std::thread other([&] {
      pinned = pin_to_cpu(cpus[i]);
      run_side(s, 1, cycles);
    });
    run_side(s, 0, cycles);
    other.join();
    r.handoffs += s.handoffs;
    if (!pinned || s.handoffs < 100) thin += " " + std::to_string(cpus[i]);
    if (s.max_warp > r.max_warp) {
      r.max_warp = s.max_warp;
      r.warp_cpu = cpus[i];
    }
  }
  unpin(cpus);
  r.agree = r.max_warp == 0;
  r.detail = r.agree ? "no TSC warp between CPU " + std::to_string(cpus[0]) + " and " +
                           std::to_string(cpus.size() - 1) + " other(s) in " +
                           std::to_string(r.handoffs) + " handoffs"
                     : "the TSC of CPU " + std::to_string(r.warp_cpu) + " is up to " +
                           std::to_string(r.max_warp) + " cycles behind CPU " +
                           std::to_string(cpus[0]) + "'s";
  if (!thin.empty()) r.detail += " (too few handoffs to judge CPU" + thin + ")";
  return r;
}

}  // namespace emulator
