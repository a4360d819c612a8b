// Tests the injected vDSO, mapped as the injector maps it and kept current by a Timekeeper in
// this process, against the kernel: ordering, accuracy, monotonicity across threads and
// processes, getcpu, clock_getres, the syscall fallbacks and the not-valid page.
// Durations: VDSORUN_VDSO_ORDERING_SECONDS (default 10), VDSORUN_VDSO_ACCURACY_SECONDS (1),
// VDSORUN_VDSO_MONOTONIC_SECONDS (2).
#include <errno.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "emulator/clock/clock_choice.h"
#include "emulator/clock/timekeeper_probe.h"
#include "tests/vdso/injected_vdso.h"
#include "tests/vdso/measure.h"

namespace vdso_test {
namespace {

constexpr auto kValidTimeout = std::chrono::seconds(5);

std::unique_ptr<InjectedVdso> started(emulator::TimekeeperOptions options = {}) {
  auto v = std::make_unique<InjectedVdso>(std::move(options));
  return v;
}

std::unique_ptr<InjectedVdso> started_valid() {
  auto v = started();
  if (!v->timekeeper().wait_until_valid(kValidTimeout)) {
    ADD_FAILURE() << v->timekeeper().status();
  }
  return v;
}

bool ts_le(const timespec& a, const timespec& b) {
  return to_ns(a) <= to_ns(b);
}

// The path this machine takes (clock_choice.h), assuming its TSC agrees across CPUs; the
// tests below that need a valid vvar force the others with TimekeeperOptions.
emulator::ClockChoice this_machine() {
  return emulator::choose_clock({emulator::current_clocksource(), emulator::cpu_flags(), true});
}

TEST(InjectedVdso, TakesThePathThisMachineAllows) {
  const emulator::ClockChoice expected = this_machine();
  std::printf("this machine: clocksource %s, path %s: %s\n",
              emulator::current_clocksource().c_str(), emulator::clock_path_name(expected.path),
              expected.why.c_str());
  auto v = started();
  const bool valid = v->timekeeper().wait_until_valid(kValidTimeout);
  std::printf("%s\n", v->timekeeper().status().c_str());
  EXPECT_EQ(valid, expected.path == emulator::ClockPath::kTsc);
  EXPECT_EQ(v->timekeeper().path(), expected.path);
  EXPECT_EQ((v->mapped_page()->flags & vdso::kVvarClocksValid) != 0, valid);
}

// Any clocksource but tsc (kvm-clock, hpet): the vvar stays not valid and every clock is the
// kernel's own answer, through its vDSO. Pretending takes this path on any machine.
class OtherClocksource : public testing::TestWithParam<const char*> {};

TEST_P(OtherClocksource, UsesTheKernelsVdso) {
  emulator::TimekeeperOptions options;
  options.clocksource = GetParam();
  auto v = started(options);
  EXPECT_FALSE(v->timekeeper().wait_until_valid(std::chrono::milliseconds(300)));
  EXPECT_EQ(v->timekeeper().path(), emulator::ClockPath::kKernelVdso);
  EXPECT_NE(v->timekeeper().status().find(GetParam()), std::string::npos);
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME}) {
    for (int i = 0; i < 10000; ++i) {
      timespec a, b, cc;
      sys_clock_gettime(c, &a);
      ASSERT_EQ(v->fn().clock_gettime(c, &b), 0);
      sys_clock_gettime(c, &cc);
      ASSERT_TRUE(ts_le(a, b) && ts_le(b, cc)) << clock_name(c);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(InjectedVdso, OtherClocksource, testing::Values("kvm-clock", "hpet"));

TEST(InjectedVdso, OrderingAgainstSyscallsHasNoViolations) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  const auto duration = env_duration("VDSORUN_VDSO_ORDERING_SECONDS", 10);
  const auto results = ordering_against_syscalls(
      v->fn(), {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_MONOTONIC_RAW},
      duration);
  for (const auto& r : results) {
    std::printf("%s\n", describe(r).c_str());
    EXPECT_GT(r.samples, 0u);
    EXPECT_EQ(r.violations, 0u) << describe(r);
  }
  const auto s = v->timekeeper().stats();
  std::printf(
      "timekeeper: %llu updates, %llu rejected readings, %llu rate kicks, last error %lld ns, "
      "max %lld ns\n",
      static_cast<unsigned long long>(s.updates),
      static_cast<unsigned long long>(s.rejected_readings),
      static_cast<unsigned long long>(s.rate_kicks), static_cast<long long>(s.last_error_ns),
      static_cast<long long>(s.max_abs_error_ns));
}

TEST(InjectedVdso, ErrorAgainstTheKernelStaysUnderOneMicrosecond) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  const auto host = host_vdso();
  // The host's vDSO reads the kernel's clock in ~30 ns; without one, syscalls (~300 ns).
  VdsoFunctions reference;
  reference.clock_gettime = sys_clock_gettime;
  int64_t max_bracket = 2000;
  if (host) {
    reference = *host;
    max_bracket = 250;
  }
  const auto duration = env_duration("VDSORUN_VDSO_ACCURACY_SECONDS", 1);
  for (clockid_t c :
       {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_MONOTONIC_RAW}) {
    const ErrorResult r = error_against(v->fn(), reference, c, duration / 5, max_bracket);
    std::printf("%s\n", describe(r).c_str());
    ASSERT_GT(r.kept, 0u) << describe(r);
    EXPECT_LT(r.max_outside_ns, 1000) << describe(r);
  }
}

// Every read is checked against the largest value any thread or process had published before
// the read began: such a value was read earlier, so ours may not be smaller.
struct SharedMax {
  std::atomic<int64_t> value{0};
  std::atomic<uint64_t> violations{0};
  std::atomic<uint64_t> reads{0};
};

void hammer(const VdsoFunctions& fn, clockid_t clock, SharedMax* shared, int64_t end_ns) {
  uint64_t reads = 0;
  for (;;) {
    const int64_t seen = shared->value.load(std::memory_order_acquire);
    timespec ts;
    fn.clock_gettime(clock, &ts);
    const int64_t v = to_ns(ts);
    if (v < seen) shared->violations.fetch_add(1, std::memory_order_relaxed);
    int64_t cur = shared->value.load(std::memory_order_relaxed);
    while (cur < v && !shared->value.compare_exchange_weak(cur, v, std::memory_order_release)) {
    }
    if ((++reads & 255) == 0) {
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (to_ns(now) >= end_ns) break;
    }
  }
  shared->reads.fetch_add(reads, std::memory_order_relaxed);
}

TEST(InjectedVdso, MonotonicAcrossThreadsAndProcesses) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  const auto duration = env_duration("VDSORUN_VDSO_MONOTONIC_SECONDS", 2);
  const std::vector<clockid_t> clocks = {CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW,
                                         CLOCK_MONOTONIC_COARSE};
  void* mem = mmap(nullptr, sizeof(SharedMax) * clocks.size(), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* shared = static_cast<SharedMax*>(mem);
  for (size_t i = 0; i < clocks.size(); ++i) new (&shared[i]) SharedMax;
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t end = to_ns(now) + duration.count();
  const VdsoFunctions fn = v->fn();

  // Two processes (forked like tracees: they share the vvar and the image mapping) and two
  // threads per clock, all racing on one shared maximum per clock.
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    const pid_t pid = fork();
    if (pid == 0) {
      for (uint64_t round = 0;; ++round) {
        timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (to_ns(t) >= end) break;
        const size_t i = round % clocks.size();
        hammer(fn, clocks[i], &shared[i], std::min<int64_t>(end, to_ns(t) + 50000000));
      }
      _exit(0);
    }
    ASSERT_GT(pid, 0);
    children.push_back(pid);
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clocks.size(); ++i) {
    for (int t = 0; t < 2; ++t) threads.emplace_back(hammer, fn, clocks[i], &shared[i], end);
  }
  for (auto& t : threads) t.join();
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  for (size_t i = 0; i < clocks.size(); ++i) {
    std::printf("%-16s %llu reads, %llu went backwards\n", clock_name(clocks[i]),
                static_cast<unsigned long long>(shared[i].reads.load()),
                static_cast<unsigned long long>(shared[i].violations.load()));
    EXPECT_GT(shared[i].reads.load(), 0u);
    EXPECT_EQ(shared[i].violations.load(), 0u) << clock_name(clocks[i]);
  }
  munmap(mem, sizeof(SharedMax) * clocks.size());
}

TEST(InjectedVdso, RealtimeFollowsItsOwnSequence) {
  // REALTIME may step with the kernel's, but without a settimeofday it never goes back.
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  int64_t last = 0;
  uint64_t backwards = 0;
  for (int i = 0; i < 2000000; ++i) {
    timespec ts;
    v->fn().clock_gettime(CLOCK_REALTIME, &ts);
    if (to_ns(ts) < last) ++backwards;
    last = to_ns(ts);
  }
  EXPECT_EQ(backwards, 0u);
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

// Pins to each allowed CPU in turn and compares with the getcpu syscall there.
void expect_getcpu_agrees(const VdsoFunctions& fn) {
  cpu_set_t saved;
  sched_getaffinity(0, sizeof saved, &saved);
  for (int cpu : allowed_cpus()) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    for (int i = 0; i < 100; ++i) {
      unsigned sys_cpu = 99999, sys_node = 99999, cpu_out = 88888, node_out = 88888;
      ASSERT_EQ(syscall(SYS_getcpu, &sys_cpu, &sys_node, nullptr), 0);
      ASSERT_EQ(fn.getcpu(&cpu_out, &node_out, nullptr), 0);
      EXPECT_EQ(static_cast<int>(sys_cpu), cpu);
      EXPECT_EQ(cpu_out, sys_cpu) << "pinned to " << cpu;
      EXPECT_EQ(node_out, sys_node) << "pinned to " << cpu;
    }
    unsigned only_cpu = 99999;
    EXPECT_EQ(fn.getcpu(&only_cpu, nullptr, nullptr), 0);
    EXPECT_EQ(static_cast<int>(only_cpu), cpu);
    EXPECT_EQ(fn.getcpu(nullptr, nullptr, nullptr), 0);
  }
  sched_setaffinity(0, sizeof saved, &saved);
}

TEST(InjectedVdso, GetcpuAgreesWithTheSyscallOnEveryCpu) {
  auto v = started();
  std::printf("getcpu method %u\n", static_cast<unsigned>(v->timekeeper().getcpu_method()));
  expect_getcpu_agrees(v->fn());
}

class GetcpuMethod : public testing::TestWithParam<vdso::GetcpuMethod> {};

TEST_P(GetcpuMethod, AgreesWithTheSyscallWhenUsable) {
  emulator::TimekeeperOptions options;
  options.getcpu_method = GetParam();
  auto v = started(options);
  if (v->timekeeper().getcpu_method() != GetParam()) GTEST_SKIP() << "not usable on this machine";
  EXPECT_EQ(v->mapped_page()->getcpu_method, static_cast<uint32_t>(GetParam()));
  expect_getcpu_agrees(v->fn());
}

INSTANTIATE_TEST_SUITE_P(InjectedVdso, GetcpuMethod,
                         testing::Values(vdso::kGetcpuRdpid, vdso::kGetcpuRdtscp, vdso::kGetcpuLsl,
                                         vdso::kGetcpuSyscall));

// Clock ids around and beyond the handled ones, and CPU-time clocks of this process/thread.
std::vector<clockid_t> probe_clocks() {
  std::vector<clockid_t> ids;
  for (clockid_t c = -3; c <= 20; ++c) ids.push_back(c);
  ids.push_back(1000);
  ids.push_back(0x7fffffff);
  ids.push_back(static_cast<clockid_t>(0x80000000u));
  clockid_t cpu;
  if (clock_getcpuclockid(getpid(), &cpu) == 0) ids.push_back(cpu);
  if (pthread_getcpuclockid(pthread_self(), &cpu) == 0) ids.push_back(cpu);
  return ids;
}

// What a call does in a child process: "returned N" or "killed by signal N". A kernel vDSO
// writes through a NULL pointer where the syscall says EFAULT; a program run without vdsorun
// gets the former, so that is what the injected vDSO must do too.
template <typename F>
std::string outcome_in_child(F call) {
  const pid_t pid = fork();
  if (pid == 0) _exit(static_cast<int>(call()) & 0xff);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "returned " + std::to_string(static_cast<int8_t>(WEXITSTATUS(status)));
}

// The kernel's answer as a program gets it without vdsorun: through its vDSO if it has one.
int kernel_clock_getres(clockid_t c, timespec* ts) {
  if (const auto host = host_vdso()) return host->clock_getres(c, ts);
  return syscall(SYS_clock_getres, c, ts) < 0 ? -errno : 0;
}

int kernel_clock_gettime(clockid_t c, timespec* ts) {
  if (const auto host = host_vdso()) return host->clock_gettime(c, ts);
  return syscall(SYS_clock_gettime, c, ts) < 0 ? -errno : 0;
}

TEST(InjectedVdso, ClockGetresMatchesTheKernel) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  for (clockid_t c : probe_clocks()) {
    timespec kernel{-1, -1}, ours{-2, -2};
    const int kernel_ret = kernel_clock_getres(c, &kernel);
    const int ours_ret = v->fn().clock_getres(c, &ours);
    EXPECT_EQ(ours_ret, kernel_ret) << "clock " << c;
    if (kernel_ret == 0) {
      EXPECT_EQ(ours.tv_sec, kernel.tv_sec) << "clock " << c;
      EXPECT_EQ(ours.tv_nsec, kernel.tv_nsec) << "clock " << c;
    }
    EXPECT_EQ(v->fn().clock_getres(c, nullptr), kernel_clock_getres(c, nullptr)) << "clock " << c;
  }
}

TEST(InjectedVdso, ClockGettimeErrorsAreTheKernels) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  for (clockid_t c : probe_clocks()) {
    timespec ts;
    EXPECT_EQ(v->fn().clock_gettime(c, &ts), kernel_clock_gettime(c, &ts)) << "clock " << c;
    EXPECT_EQ(outcome_in_child([&] { return v->fn().clock_gettime(c, nullptr); }),
              outcome_in_child([&] { return kernel_clock_gettime(c, nullptr); }))
        << "clock " << c;
  }
  timespec ts;
  EXPECT_EQ(v->fn().clock_gettime(12, &ts), -EINVAL);
}

TEST(InjectedVdso, CpuTimeAndAlarmClocksGoToTheKernel) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  for (clockid_t c : {CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, CLOCK_REALTIME_ALARM,
                      CLOCK_BOOTTIME_ALARM}) {
    timespec before, ours, after;
    const long ok = syscall(SYS_clock_gettime, c, &before);
    const int ret = v->fn().clock_gettime(c, &ours);
    syscall(SYS_clock_gettime, c, &after);
    if (ok != 0) {
      EXPECT_EQ(ret, -errno) << "clock " << c;
      continue;
    }
    ASSERT_EQ(ret, 0) << "clock " << c;
    EXPECT_TRUE(ts_le(before, ours) && ts_le(ours, after)) << "clock " << c;
  }
}

TEST(InjectedVdso, GettimeofdayAndTimeAgreeWithTheKernel) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  for (int i = 0; i < 100000; ++i) {
    timeval a, b, c;
    struct timezone tz_sys {
    }, tz_ours{};
    syscall(SYS_gettimeofday, &a, &tz_sys);
    ASSERT_EQ(v->fn().gettimeofday(&b, &tz_ours), 0);
    syscall(SYS_gettimeofday, &c, nullptr);
    const int64_t us_a = a.tv_sec * 1000000 + a.tv_usec, us_b = b.tv_sec * 1000000 + b.tv_usec,
                  us_c = c.tv_sec * 1000000 + c.tv_usec;
    ASSERT_TRUE(us_a <= us_b && us_b <= us_c) << us_a << " " << us_b << " " << us_c;
    ASSERT_GE(b.tv_usec, 0);
    ASSERT_LT(b.tv_usec, 1000000);
    EXPECT_EQ(tz_ours.tz_minuteswest, tz_sys.tz_minuteswest);
    EXPECT_EQ(tz_ours.tz_dsttime, tz_sys.tz_dsttime);
  }
  EXPECT_EQ(v->fn().gettimeofday(nullptr, nullptr), 0);
  for (int i = 0; i < 1000; ++i) {
    time_t t = 0;
    const time_t ours = v->fn().time(&t);
    ASSERT_EQ(ours, t);
  }
  EXPECT_GT(v->fn().time(nullptr), 0);
}

// The coarse clocks and time() are the kernel's own values: each read lies between two raw
// syscalls of the same clock, never a tick behind nor ahead, across many ticks and at least one
// second boundary. VDSORUN_VDSO_COARSE_ROUNDS (default a million) rounds per clock.
TEST(InjectedVdso, CoarseClocksAndTimeEqualTheKernels) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  auto v = started_valid();
  const char* env = getenv("VDSORUN_VDSO_COARSE_ROUNDS");
  const long rounds = env != nullptr ? std::atol(env) : 1000000;
  for (clockid_t c : {CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME_COARSE}) {
    long outside = 0;
    timespec first{}, last{};
    // On a fast machine a million rounds take a fifth of a second: go on (for at most 3 s)
    // until the seconds have changed too.
    for (long i = 0; i < rounds || (last.tv_sec == first.tv_sec && i < 15 * rounds); ++i) {
      timespec before, ours, after;
      sys_clock_gettime(c, &before);
      ASSERT_EQ(v->fn().clock_gettime(c, &ours), 0);
      sys_clock_gettime(c, &after);
      if (!ts_le(before, ours) || !ts_le(ours, after)) ++outside;
      if (i == 0) first = ours;
      last = ours;
    }
    EXPECT_EQ(outside, 0) << clock_name(c) << ": " << outside << " of " << rounds
                          << " reads outside their syscall bracket";
    std::printf("%s: %ld reads over %.3f s, %ld outside the syscall bracket\n", clock_name(c),
                rounds, static_cast<double>(to_ns(last) - to_ns(first)) / 1e9, outside);
  }
  long outside = 0;
  time_t first = 0, last = 0;
  for (long i = 0; i < rounds || (last == first && i < 15 * rounds); ++i) {
    const time_t before = static_cast<time_t>(syscall(SYS_time, nullptr));
    const time_t ours = v->fn().time(nullptr);
    const time_t after = static_cast<time_t>(syscall(SYS_time, nullptr));
    if (ours < before || ours > after) ++outside;
    if (i == 0) first = ours;
    last = ours;
  }
  EXPECT_EQ(outside, 0) << "time(): " << outside << " of " << rounds << " outside";
  std::printf("time(): %ld reads over %ld second boundaries, %ld outside the syscall bracket\n",
              rounds, static_cast<long>(last - first), outside);
}

// Not valid: the kernel answers (its vDSO, else the syscall), so every read lies inside a
// syscall bracket.
TEST(InjectedVdso, NotValidPageAsksTheKernel) {
  emulator::TimekeeperOptions options;
  options.force_syscalls = true;
  auto v = started(options);
  EXPECT_FALSE(v->timekeeper().wait_until_valid(kValidTimeout));
  EXPECT_NE(v->timekeeper().status().find("not valid"), std::string::npos);
  EXPECT_EQ(v->mapped_page()->flags, 0u);
  for (clockid_t c : {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_MONOTONIC_COARSE}) {
    for (int i = 0; i < 10000; ++i) {
      timespec a, b, cc;
      sys_clock_gettime(c, &a);
      ASSERT_EQ(v->fn().clock_gettime(c, &b), 0);
      sys_clock_gettime(c, &cc);
      ASSERT_TRUE(ts_le(a, b) && ts_le(b, cc)) << clock_name(c);
    }
  }
  timeval tv;
  EXPECT_EQ(v->fn().gettimeofday(&tv, nullptr), 0);
  EXPECT_GT(v->fn().time(nullptr), 0);
}

TEST(InjectedVdso, TransformAppliesToSyscallFallbacks) {
  // With the page not valid the timekeeper writes nothing, so the test may be the writer.
  emulator::TimekeeperOptions options;
  options.force_syscalls = true;
  auto v = started(options);
  v->timekeeper().wait_until_valid(std::chrono::milliseconds(100));
  vdso::Vvar* page = v->writable_page();
  constexpr int64_t kHour = 3600000000000;
  {
    emulator::VvarWriteSection w(page);
    for (uint32_t id = 0; id < vdso::kClockSlots; ++id)
      vdso::vvar_store(page->transform.rate_mult[id], uint64_t{1} << 32);
    vdso::vvar_store(page->transform.rate_shift, 32u);
    vdso::vvar_store(page->transform.anchor_out[CLOCK_MONOTONIC], kHour);  // an hour ahead
    vdso::vvar_store(page->transform.anchor_out[CLOCK_REALTIME], int64_t{1000000000000000000});
    vdso::vvar_store(page->transform_enabled, 1u);
  }
  timespec a, b, c;
  sys_clock_gettime(CLOCK_MONOTONIC, &a);
  ASSERT_EQ(v->fn().clock_gettime(CLOCK_MONOTONIC, &b), 0);
  sys_clock_gettime(CLOCK_MONOTONIC, &c);
  EXPECT_GE(to_ns(b), to_ns(a) + kHour);
  EXPECT_LE(to_ns(b), to_ns(c) + kHour);
  // REALTIME frozen (rate 0 for it alone): MONOTONIC still runs.
  {
    emulator::VvarWriteSection w(page);
    vdso::vvar_store(page->transform.rate_mult[CLOCK_REALTIME], uint64_t{0});
  }
  timespec frozen;
  ASSERT_EQ(v->fn().clock_gettime(CLOCK_REALTIME, &frozen), 0);
  EXPECT_EQ(to_ns(frozen), 1000000000000000000);
  timeval tv;
  ASSERT_EQ(v->fn().gettimeofday(&tv, nullptr), 0);
  EXPECT_EQ(tv.tv_sec, 1000000000);
  EXPECT_EQ(tv.tv_usec, 0);
  // An unhandled clock is never transformed.
  timespec cpu;
  ASSERT_EQ(v->fn().clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu), 0);
  EXPECT_LT(to_ns(cpu), kHour);
}

}  // namespace
}  // namespace vdso_test
