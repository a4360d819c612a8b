// Tests that the timekeeper follows the kernel's clocks when they change under it: a REALTIME
// step (settimeofday) either way, and a rate change that adjtimex's tick/freq do not announce
// (an adjtime() slew, the kernel PLL). The "kernel" here is the real one seen through a fake
// that shifts or slews it, substituted with TimekeeperOptions::kernel_clock; the injected
// vDSO is then checked against the same fake.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "tests/vdso/injected_vdso.h"
#include "tests/vdso/measure.h"

namespace vdso_test {
namespace {

// The fake kernel: real clocks, REALTIME-family shifted by `real_offset`, and every clock but
// MONOTONIC_RAW running `ppm` faster since `since` (real MONOTONIC ns), continuously.
struct Fake {
  std::mutex mutex;
  int64_t real_offset = 0;
  int64_t since = 0;
  int64_t extra_at_since = 0;
  int64_t ppm = 0;
};
Fake g_fake;

int64_t extra_now(int64_t mono) {
  return g_fake.extra_at_since + (mono - g_fake.since) * g_fake.ppm / 1000000;
}

int fake_kernel(clockid_t c, timespec* ts) {
  std::lock_guard lock(g_fake.mutex);
  timespec mono;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  const int ret = clock_gettime(c, ts);
  int64_t v = to_ns(*ts);
  if (c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE || c == CLOCK_TAI) v += g_fake.real_offset;
  if (c != CLOCK_MONOTONIC_RAW) v += extra_now(to_ns(mono));
  ts->tv_sec = v / 1000000000;
  ts->tv_nsec = v % 1000000000;
  return ret;
}

void set_rate(int64_t ppm) {
  std::lock_guard lock(g_fake.mutex);
  timespec mono;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  g_fake.extra_at_since = extra_now(to_ns(mono));
  g_fake.since = to_ns(mono);
  g_fake.ppm = ppm;
}

void set_realtime_offset(int64_t ns) {
  std::lock_guard lock(g_fake.mutex);
  g_fake.real_offset = ns;
}

// The largest distance of our reading outside a fake-kernel bracket, over `n` samples.
int64_t worst_outside(const VdsoFunctions& fn, clockid_t c, int n) {
  int64_t worst = 0;
  for (int i = 0; i < n; ++i) {
    timespec a, b, d;
    fake_kernel(c, &a);
    fn.clock_gettime(c, &b);
    fake_kernel(c, &d);
    worst = std::max(worst, std::max(to_ns(a) - to_ns(b), to_ns(b) - to_ns(d)));
  }
  return worst;
}

// Polls until `done` holds, or gives up after `seconds` (generous: the timekeeper needs only a
// few of its 4 ms updates, but a loaded machine may delay them).
template <typename F>
bool eventually(double seconds, F done) {
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (done()) return true;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (to_ns(now) - to_ns(start) > static_cast<int64_t>(seconds * 1e9)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// Our clock sits within 1 us of the fake's for a whole batch.
bool converges(const VdsoFunctions& fn, clockid_t c, double seconds) {
  return eventually(seconds, [&] { return worst_outside(fn, c, 2000) < 1000; });
}

// The rate the vvar gives MONOTONIC relative to MONOTONIC_RAW.
double published_ratio(const vdso::Vvar* page) {
  return static_cast<double>(vdso::vvar_load(page->hres[CLOCK_MONOTONIC].mult)) /
         static_cast<double>(vdso::vvar_load(page->hres[CLOCK_MONOTONIC_RAW].mult));
}

class FollowTheKernel : public testing::Test {
 protected:
  void SetUp() override {
    VDSO_SKIP_UNLESS_TSC_PATH();
    {
      std::lock_guard lock(g_fake.mutex);
      g_fake.real_offset = g_fake.since = g_fake.extra_at_since = g_fake.ppm = 0;
    }
    emulator::TimekeeperOptions options;
    options.kernel_clock = fake_kernel;
    // The vDSO asks "the kernel's vDSO" for the coarse clocks and whatever it does not
    // compute: the fake, too.
    v_ = std::make_unique<InjectedVdso>(std::move(options), [](vdso::HostTable& t) {
      t.clock_gettime = t.coarse_route = reinterpret_cast<uint64_t>(&fake_kernel);
    });
    ASSERT_TRUE(v_->timekeeper().wait_until_valid(std::chrono::seconds(5)));
    ASSERT_TRUE(converges(v_->fn(), CLOCK_REALTIME, 5));
    base_ratio_ = published_ratio(v_->mapped_page());
  }
  std::unique_ptr<InjectedVdso> v_;
  double base_ratio_ = 1;
};

TEST_F(FollowTheKernel, RealtimeStepsBackAndForth) {
  for (int64_t offset : {int64_t{-5000000000}, int64_t{3000000000}, int64_t{-1500}}) {
    set_realtime_offset(offset);
    EXPECT_TRUE(converges(v_->fn(), CLOCK_REALTIME, 5)) << "offset " << offset;
    EXPECT_TRUE(converges(v_->fn(), CLOCK_TAI, 5)) << "offset " << offset;
    EXPECT_LT(worst_outside(v_->fn(), CLOCK_MONOTONIC, 1000), 1000) << "MONOTONIC moved too";
    EXPECT_LT(worst_outside(v_->fn(), CLOCK_BOOTTIME, 1000), 1000) << "BOOTTIME moved too";
  }
  EXPECT_GE(v_->timekeeper().stats().realtime_steps, 3u);
  // The coarse clock is the kernel's own: the shifted one, read through "its vDSO".
  timespec before, ours, after;
  fake_kernel(CLOCK_REALTIME_COARSE, &before);
  v_->fn().clock_gettime(CLOCK_REALTIME_COARSE, &ours);
  fake_kernel(CLOCK_REALTIME_COARSE, &after);
  EXPECT_LE(to_ns(before), to_ns(ours));
  EXPECT_LE(to_ns(ours), to_ns(after));
}

TEST_F(FollowTheKernel, UnannouncedRateChangesWithoutGoingBackwards) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> backwards{0};
  std::thread watcher([&] {
    int64_t last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      timespec ts;
      v_->fn().clock_gettime(CLOCK_MONOTONIC, &ts);
      if (to_ns(ts) < last) ++backwards;
      last = to_ns(ts);
    }
  });
  for (int64_t ppm : {300, -200, 0}) {
    set_rate(ppm);
    // Long enough for an unfollowed rate change to be tens of microseconds off.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const double want = base_ratio_ * (1 + static_cast<double>(ppm) * 1e-6);
    EXPECT_TRUE(eventually(5,
                           [&] {
                             return std::abs(published_ratio(v_->mapped_page()) / want - 1) <
                                        30e-6 &&
                                    worst_outside(v_->fn(), CLOCK_MONOTONIC, 2000) < 1000 &&
                                    worst_outside(v_->fn(), CLOCK_REALTIME, 2000) < 1000;
                           }))
        << ppm << " ppm: published ratio " << published_ratio(v_->mapped_page()) / base_ratio_;
  }
  stop = true;
  watcher.join();
  EXPECT_EQ(backwards.load(), 0u);
  const auto s = v_->timekeeper().stats();
  std::printf("rate kicks %llu, max error before re-anchoring %lld ns\n",
              static_cast<unsigned long long>(s.rate_kicks),
              static_cast<long long>(s.max_abs_error_ns));
  EXPECT_GE(s.rate_kicks, 1u);
}

}  // namespace
}  // namespace vdso_test
