// Time control (--time, --offset, --rate, --freeze) on real programs: glibc (dynamic and
// static), musl (static), Go (static, parses the vDSO itself), an old-style static program that
// reads the clock through the legacy vsyscall page, and Debian's own date and python3. Each
// checks what the program sees through every read path (vDSO, raw syscalls, the page), that
// timed waits end at the virtual instant, that --rate scales waits, that --freeze holds the
// wall clock, and that a child exec'd later shares its parent's timeline. Wall-clock times are
// measured here, around the run; bounds are loose (a loaded 2-core machine) but a wrong rate,
// an unconverted deadline (a day or a year away) or an untransformed path is off by far more.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <iostream>

#include "e2e_support.h"

namespace e2e {
namespace {

constexpr int64_t kNs = 1000000000;
constexpr int64_t kWhen2038 = 2147483637;  // 2038-01-19T03:13:57Z
constexpr const char* kWhen2038Text = "2038-01-19T03:13:57Z";

struct Target {
  const char* name;
  std::function<std::string(std::string*)> path;
};

std::string built(const char* name, std::string*) {
  return program(name);
}

const Target kTargets[] = {
    {"glibc_dynamic", [](std::string* w) { return built("time_probe", w); }},
    {"glibc_static", [](std::string* w) { return built("time_probe_static", w); }},
    {"musl_static",
     [](std::string* w) { return build_with_musl("time_probe.c", "time_probe_musl", w); }},
};

int64_t real_now_s() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec;
}

struct Timed {
  Outcome outcome;
  double wall_s = 0;
  std::vector<Record> records;
};

Timed run_timed(const std::vector<std::string>& argv, std::vector<std::string> options,
                Vdso vdso = Vdso::kInject, int timeout = 60) {
  RunSpec spec;
  spec.vdso = vdso;
  spec.extra_options = std::move(options);
  spec.timeout_seconds = timeout;
  const auto t0 = std::chrono::steady_clock::now();
  Timed t;
  t.outcome = run(argv, spec);
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  t.records = parse_records(t.outcome.result.out);
  return t;
}

bool ok(const Timed& t) {
  return t.outcome.result.exited && t.outcome.result.exit_code == 0;
}

// The probe's `skip` lines (a call this kernel lacks, such as futex_waitv before 5.16): said
// here, and counted with the waits.
size_t waits_and_skips(const Timed& t) {
  const auto skips = records_of(t.records, "skip");
  for (const Record& s : skips)
    std::cout << "probe skipped a wait this kernel lacks: " << s.line << "\n";
  return records_of(t.records, "wait").size() + skips.size();
}

std::string describe(const Timed& t) {
  return t.outcome.command + "\n" + t.outcome.result.describe();
}

class TimeTarget : public testing::TestWithParam<Target> {
 protected:
  std::string path() {
    std::string why;
    const std::string p = GetParam().path(&why);
    if (p.empty()) ADD_FAILURE() << why;
    return p;
  }
};

// Every read path of the probe shows the chosen instant, and they agree to the tick.
TEST_P(TimeTarget, EveryReadPathShowsTheChosenTime) {
  const std::string probe = path();
  ASSERT_FALSE(probe.empty());
  for (Vdso vdso : {Vdso::kInject, Vdso::kHost, Vdso::kNone}) {
    const Timed t = run_timed({probe, "now"}, {std::string("--time=") + kWhen2038Text}, vdso);
    ASSERT_TRUE(ok(t)) << describe(t);
    const Record* r = find_record(t.records, "now");
    ASSERT_NE(r, nullptr) << describe(t);
    SCOPED_TRACE(std::string("--vdso=") + vdso_name(vdso) + ": " + r->line);
    // The program starts within a few (virtual = real) seconds of vdsorun.
    for (const char* key : {"time", "sys_time"}) {
      EXPECT_GE(r->num(key), kWhen2038) << key;
      EXPECT_LE(r->num(key), kWhen2038 + 5) << key;
    }
    const int64_t rt = r->num("rt");
    EXPECT_GE(rt, kWhen2038 * kNs);
    EXPECT_LE(rt, (kWhen2038 + 5) * kNs);
    // gettimeofday, clock_gettime and the raw syscalls agree to a tick (and a few ms of
    // stops between the reads); time() trails by at most a tick, as on the kernel.
    const int64_t slack = coarse_tick_ns() + 50000000;
    EXPECT_NEAR(static_cast<double>(r->num("gtod_us") * 1000), static_cast<double>(rt), slack);
    EXPECT_NEAR(static_cast<double>(r->num("sys_rt")), static_cast<double>(rt), slack);
    EXPECT_NEAR(static_cast<double>(r->num("sys_gtod_us") * 1000), static_cast<double>(rt), slack);
    EXPECT_NEAR(static_cast<double>(r->num("rt_coarse")), static_cast<double>(rt), slack);
    EXPECT_LE(r->num("time") * kNs, rt + slack);
    EXPECT_GE(r->num("time") * kNs, rt - kNs - slack);
    // MONOTONIC, BOOTTIME and CPU time are not moved by --time.
    EXPECT_LT(r->num("mono"), 100LL * 365 * 86400 * kNs);
    EXPECT_LT(r->num("cpu"), 60 * kNs);
    EXPECT_NEAR(static_cast<double>(r->num("sys_mono")), static_cast<double>(r->num("mono")),
                static_cast<double>(slack));
  }
}

// `program t32 14` under --time=2038-01-19T03:13:57Z --rate=5 prints 14 32-bit seconds a
// virtual second apart: they must wrap at 2038-01-19T03:14:08Z (2^31), in under 3 s of wall time.
void check_rollover(const std::string& program, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> options = {std::string("--time=") + kWhen2038Text, "--rate=5"};
  options.insert(options.end(), extra.begin(), extra.end());
  const Timed t = run_timed({program, "t32", "14"}, options);
  ASSERT_TRUE(ok(t)) << describe(t);
  const auto values = records_of(t.records, "t32");
  ASSERT_EQ(values.size(), 14u) << describe(t);
  EXPECT_GE(values.front().num("value"), kWhen2038) << describe(t);
  EXPECT_LE(values.front().num("value"), kWhen2038 + 2) << describe(t);
  bool wrapped = false;
  for (size_t i = 1; i < values.size(); ++i) {
    const int64_t a = values[i - 1].num("value"), b = values[i].num("value");
    if (b < 0 && a > 0) {
      wrapped = true;
      EXPECT_EQ(a, 2147483647) << describe(t);
      EXPECT_EQ(b, -2147483647 - 1) << describe(t);
    } else {
      EXPECT_EQ(b, a + 1) << "a sleep(1) apart, line " << i << "\n" << describe(t);
    }
  }
  EXPECT_TRUE(wrapped) << describe(t);
  EXPECT_LT(t.wall_s, 8.0) << "14 virtual seconds at rate 5\n" << describe(t);
}

// A program that keeps time() in 32 bits sees it wrap at 2038-01-19T03:14:08Z.
TEST_P(TimeTarget, SeesThe2038Rollover) {
  const std::string probe = path();
  ASSERT_FALSE(probe.empty());
  check_rollover(probe);
}

// --rate=10: a 2 s sleep takes about 0.2 s and the program sees 2 s pass.
TEST_P(TimeTarget, RateScalesSleepsAndClocks) {
  const std::string probe = path();
  ASSERT_FALSE(probe.empty());
  const Timed t = run_timed({probe, "sleep", "2000"}, {"--rate=10"});
  ASSERT_TRUE(ok(t)) << describe(t);
  const Record* r = find_record(t.records, "sleep");
  ASSERT_NE(r, nullptr) << describe(t);
  EXPECT_GE(r->num("mono_ms"), 2000) << describe(t);
  EXPECT_LT(r->num("mono_ms"), 3500) << describe(t);
  EXPECT_GE(r->num("rt_ms"), 2000) << describe(t);
  EXPECT_LT(r->num("rt_ms"), 3500) << describe(t);
  EXPECT_GE(t.wall_s, 0.18) << describe(t);
  EXPECT_LT(t.wall_s, 1.5) << describe(t);
}

// --rate=10: each absolute deadline 2 virtual seconds ahead (clock_nanosleep, timerfd, POSIX
// timer, pthread_cond_timedwait, mq_timedreceive, futex_waitv) and each relative timeout (poll,
// select, epoll, futex, setitimer, alarm, semtimedop, io_getevents) ends after 2 virtual
// seconds, 0.2 s of wall time each.
TEST_P(TimeTarget, RateScalesEveryKindOfWait) {
  const std::string probe = path();
  ASSERT_FALSE(probe.empty());
  const Timed t = run_timed({probe, "waits", "2000"}, {"--rate=10"});
  ASSERT_TRUE(ok(t)) << describe(t);
  const auto waits = records_of(t.records, "wait");
  EXPECT_EQ(waits_and_skips(t), 15u) << describe(t);
  for (const Record& w : waits) {
    EXPECT_GE(w.num("ms"), 1990) << w.line;
    EXPECT_LT(w.num("ms"), 4000) << w.line;
  }
  EXPECT_LT(t.wall_s, 0.2 * 15 + 3.0) << describe(t);
}

// --offset=+1y: absolute REALTIME deadlines are the virtual instant, not a year away.
TEST_P(TimeTarget, DeadlinesFollowAnOffset) {
  const std::string probe = path();
  ASSERT_FALSE(probe.empty());
  const Timed t = run_timed({probe, "waits", "300"}, {"--offset=+1y"}, Vdso::kInject, 30);
  ASSERT_TRUE(ok(t)) << describe(t);
  const auto waits = records_of(t.records, "wait");
  EXPECT_EQ(waits_and_skips(t), 14u) << describe(t);
  for (const Record& w : waits) {
    EXPECT_GE(w.num("ms"), 290) << w.line;
    EXPECT_LT(w.num("ms"), 2000) << w.line;
  }
}

// --freeze: a busy loop of clock_gettime(REALTIME) sees one value; sleeps still end.
TEST_P(TimeTarget, FreezeHoldsTheWallClock) {
  const std::string probe = path();
  ASSERT_FALSE(probe.empty());
  const Timed spin = run_timed({probe, "spin", "200000"}, {"--freeze"});
  ASSERT_TRUE(ok(spin)) << describe(spin);
  const Record* s = find_record(spin.records, "spin");
  ASSERT_NE(s, nullptr) << describe(spin);
  EXPECT_EQ(s->num("min"), s->num("max")) << s->line;
  EXPECT_NEAR(static_cast<double>(s->num("min") / kNs), static_cast<double>(real_now_s()), 30);

  const Timed sl = run_timed({probe, "sleep", "200"}, {"--freeze=2000-01-01T00:00:00Z"});
  ASSERT_TRUE(ok(sl)) << describe(sl);
  const Record* r = find_record(sl.records, "sleep");
  ASSERT_NE(r, nullptr) << describe(sl);
  EXPECT_GE(r->num("mono_ms"), 200) << r->line;
  EXPECT_EQ(r->num("rt_ms"), 0) << r->line;
  const Timed now = run_timed({probe, "now"}, {"--freeze=2000-01-01T00:00:00Z"});
  ASSERT_TRUE(ok(now)) << describe(now);
  const Record* n = find_record(now.records, "now");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->num("rt"), 946684800 * kNs) << n->line;
  EXPECT_EQ(n->num("sys_rt"), 946684800 * kNs) << n->line;
  EXPECT_EQ(n->num("time"), 946684800) << n->line;
  EXPECT_EQ(n->num("gtod_us"), 946684800000000) << n->line;
}

// A child exec'd later reads the same timeline as its parent.
TEST_P(TimeTarget, ForkAndExecShareTheTimeline) {
  const std::string probe = path();
  ASSERT_FALSE(probe.empty());
  const Timed t = run_timed({probe, "fork"}, {"--offset=-36h", "--rate=2"});
  ASSERT_TRUE(ok(t)) << describe(t);
  const Record* parent = find_record(t.records, "now", "who", "parent");
  const Record* child = find_record(t.records, "now", "who", "child");
  const Record* after = find_record(t.records, "now", "who", "parent_after");
  ASSERT_TRUE(parent && child && after) << describe(t);
  for (const char* key : {"rt", "sys_rt", "mono"}) {
    EXPECT_GT(child->num(key), parent->num(key)) << key << "\n" << describe(t);
    EXPECT_LT(child->num(key), after->num(key)) << key << "\n" << describe(t);
  }
  // 36 hours back, within the run's few seconds.
  EXPECT_NEAR(static_cast<double>(parent->num("time")),
              static_cast<double>(real_now_s() - 36 * 3600), 30);
  // The child slept 0.1 s of virtual time (usleep, scaled): at rate 2, 0.05 s of wall time.
  EXPECT_GE(child->num("mono") - parent->num("mono"), 100000000) << describe(t);
}

INSTANTIATE_TEST_SUITE_P(Targets, TimeTarget, testing::ValuesIn(kTargets),
                         [](const testing::TestParamInfo<Target>& i) { return i.param.name; });

// Go's runtime reads the vDSO itself (no libc) and sleeps with futex timeouts.
TEST(TimeGo, SeesTheChosenTimeAndScaledSleeps) {
  std::string why;
  const std::string go = build_go("go_time", "go_time", &why);
  ASSERT_FALSE(go.empty()) << why;
  const Timed now = run_timed({go, "now"}, {std::string("--time=") + kWhen2038Text});
  ASSERT_TRUE(ok(now)) << describe(now);
  const Record* n = find_record(now.records, "now");
  ASSERT_NE(n, nullptr) << describe(now);
  EXPECT_GE(n->num("unix"), kWhen2038) << n->line;
  EXPECT_LE(n->num("unix"), kWhen2038 + 5) << n->line;
  EXPECT_EQ(n->at("utc").rfind("2038-01-19T03:1", 0), 0u) << n->line;

  const Timed sl = run_timed({go, "sleep", "2000"}, {"--rate=10"});
  ASSERT_TRUE(ok(sl)) << describe(sl);
  const Record* s = find_record(sl.records, "sleep");
  ASSERT_NE(s, nullptr) << describe(sl);
  EXPECT_GE(s->num("mono_ms"), 2000) << s->line;
  EXPECT_LT(s->num("mono_ms"), 4000) << s->line;
  EXPECT_LT(sl.wall_s, 2.0) << describe(sl);

  check_rollover(go);

  const Timed spin = run_timed({go, "spin", "200000"}, {"--freeze=2000-01-01T00:00:00Z"});
  ASSERT_TRUE(ok(spin)) << describe(spin);
  const Record* f = find_record(spin.records, "spin");
  ASSERT_NE(f, nullptr) << describe(spin);
  EXPECT_EQ(f->num("min"), 946684800 * kNs) << f->line;
  EXPECT_EQ(f->num("max"), 946684800 * kNs) << f->line;
}

// glibc <= 2.13 style: time() and gettimeofday() through the vsyscall page, in every mode
// that answers calls; with and without call-site patching.
TEST(TimeLegacy, VsyscallPageShowsTheChosenTime) {
  for (const char* mode : {"xonly", "emulate", "native"}) {
    for (const char* patch : {"auto", "off"}) {
      const Timed t = run_timed({program("legacy_time")},
                                {std::string("--vsyscall=") + mode, std::string("--patch=") + patch,
                                 std::string("--time=") + kWhen2038Text});
      ASSERT_TRUE(ok(t)) << describe(t);
      const Record* r = find_record(t.records, "legacy");
      ASSERT_NE(r, nullptr) << describe(t);
      EXPECT_GE(r->num("time"), kWhen2038) << mode << " " << r->line;
      EXPECT_LE(r->num("time"), kWhen2038 + 5) << mode << " " << r->line;
      EXPECT_GE(r->num("gtod_s"), kWhen2038) << mode << " " << r->line;
      EXPECT_LE(r->num("gtod_s"), kWhen2038 + 5) << mode << " " << r->line;
    }
  }
  check_rollover(program("legacy_time"));
  const Timed spin =
      run_timed({program("legacy_time"), "spin", "100000"}, {"--freeze=2000-01-01T00:00:00Z"});
  ASSERT_TRUE(ok(spin)) << describe(spin);
  const Record* f = find_record(spin.records, "spin");
  ASSERT_NE(f, nullptr) << describe(spin);
  EXPECT_EQ(f->num("min_us"), 946684800000000) << f->line;
  EXPECT_EQ(f->num("max_us"), 946684800000000) << f->line;

  // --vsyscall=none still faults: time control does not answer what the kernel would not.
  const Timed none = run_timed({program("legacy_time")},
                               {"--vsyscall=none", std::string("--time=") + kWhen2038Text});
  // vdsorun exits as the program did: 128 + SIGSEGV.
  EXPECT_TRUE(none.outcome.result.exited && none.outcome.result.exit_code == 128 + SIGSEGV)
      << describe(none);
}

// Debian's own programs: coreutils date and sleep, python3.
TEST(TimeSystem, DatePythonAndSleep) {
  Timed d =
      run_timed({"date", "-u", "+%s %Y-%m-%dT%H:%M:%SZ"}, {std::string("--time=") + kWhen2038Text});
  ASSERT_TRUE(ok(d)) << describe(d);
  const int64_t secs = std::atoll(d.outcome.result.out.c_str());
  EXPECT_GE(secs, kWhen2038) << describe(d);
  EXPECT_LE(secs, kWhen2038 + 5) << describe(d);
  EXPECT_NE(d.outcome.result.out.find("2038-01-19T03:1"), std::string::npos) << describe(d);

  Timed p = run_timed({"python3", "-c", "import time; print(int(time.time()))"},
                      {std::string("--time=") + kWhen2038Text});
  ASSERT_TRUE(ok(p)) << describe(p);
  const int64_t py = std::atoll(p.outcome.result.out.c_str());
  EXPECT_GE(py, kWhen2038) << describe(p);
  EXPECT_LE(py, kWhen2038 + 5) << describe(p);

  // python3's time.sleep waits on an absolute CLOCK_MONOTONIC deadline.
  Timed ps =
      run_timed({"python3", "-c",
                 "import time; t=time.monotonic(); time.sleep(2); print(time.monotonic()-t)"},
                {"--rate=10"});
  ASSERT_TRUE(ok(ps)) << describe(ps);
  EXPECT_GE(std::atof(ps.outcome.result.out.c_str()), 2.0) << describe(ps);
  EXPECT_LT(ps.wall_s, 1.5) << describe(ps);

  Timed sl = run_timed({"sleep", "2"}, {"--rate=10"});
  ASSERT_TRUE(ok(sl)) << describe(sl);
  EXPECT_LT(sl.wall_s, 1.0) << describe(sl);
  EXPECT_GE(sl.wall_s, 0.15) << describe(sl);

  Timed fr = run_timed({"sleep", "0.2"}, {"--freeze"});
  ASSERT_TRUE(ok(fr)) << describe(fr);
  EXPECT_LT(fr.wall_s, 2.0) << describe(fr);
}

// The JSON report records the transform; without one it says null.
TEST(TimeReport, RecordsTheTransform) {
  Timed t = run_timed({program("time_probe"), "now"},
                      {std::string("--time=") + kWhen2038Text, "--rate=2.5"});
  ASSERT_TRUE(ok(t)) << describe(t);
  ASSERT_TRUE(t.outcome.report.has_value()) << describe(t);
  const integration::JsonValue* time = t.outcome.report->get("time");
  ASSERT_NE(time, nullptr);
  ASSERT_EQ(time->type, integration::JsonValue::Type::kObject);
  EXPECT_EQ(time->get("realtime_at_start")->string, kWhen2038Text);
  EXPECT_EQ(time->get("rate")->number, 2.5);
  EXPECT_FALSE(time->get("freeze")->boolean);
  EXPECT_NE(time->get("description")->string.find("rate 2.5"), std::string::npos);

  Timed plain = run_timed({program("time_probe"), "now"}, {});
  ASSERT_TRUE(ok(plain) && plain.outcome.report.has_value()) << describe(plain);
  ASSERT_NE(plain.outcome.report->get("time"), nullptr);
  EXPECT_EQ(plain.outcome.report->get("time")->type, integration::JsonValue::Type::kNull);
}

// What cannot follow the virtual clock, as the man page says: timestamps the kernel writes
// (here a file's mtime) stay real.
TEST(TimeLimits, FileTimestampsStayReal) {
  const std::string file = work_dir() + "/time-limit-file";
  unlink(file.c_str());
  Timed t = run_timed({"sh", "-c", "touch \"$0\" && stat -c %Y \"$0\" && date +%s", file},
                      {std::string("--time=") + kWhen2038Text});
  ASSERT_TRUE(ok(t)) << describe(t);
  int64_t mtime = 0, date = 0;
  ASSERT_EQ(std::sscanf(t.outcome.result.out.c_str(), "%ld %ld", &mtime, &date), 2) << describe(t);
  EXPECT_NEAR(static_cast<double>(mtime), static_cast<double>(real_now_s()), 30) << describe(t);
  EXPECT_GE(date, kWhen2038) << describe(t);
  unlink(file.c_str());
}

// Setting the clock under a transform would set the host's with a virtual value: refused
// (EPERM) for every program, root included; reading adjtimex's state still works.
TEST(TimeLimits, SettingTheClockIsRefused) {
  const int64_t before = real_now_s();
  Timed t = run_timed({"date", "-s", "2030-01-01T00:00:00Z"}, {"--offset=+1d"});
  EXPECT_TRUE(t.outcome.result.exited && t.outcome.result.exit_code != 0) << describe(t);
  EXPECT_NE(t.outcome.result.err.find("not permitted"), std::string::npos) << describe(t);
  EXPECT_NE(t.outcome.result.err.find("EPERM"), std::string::npos) << describe(t);
  EXPECT_NEAR(static_cast<double>(real_now_s()), static_cast<double>(before), 30);
  Timed q = run_timed({"python3", "-c",
                       "import ctypes\n"
                       "buf = (ctypes.c_long * 32)()\n"
                       "print(ctypes.CDLL(None).adjtimex(buf))"},
                      {"--offset=+1d"});
  ASSERT_TRUE(ok(q)) << describe(q);
  EXPECT_GE(std::atoi(q.outcome.result.out.c_str()), 0) << describe(q);
}

}  // namespace
}  // namespace e2e
