// Tests the vvar seqlock: a reader racing the writer (emulator::VvarWriteSection) never accepts
// a torn snapshot, and the counter is odd exactly while a write section is open.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

#include "emulator/clock/vvar_object.h"
#include "vdso/abi.h"
#include "vdso/seqlock.h"
#include "vdso/tsc.h"
#include "vdso/vvar.h"

namespace vdso {
namespace {

TEST(VdsoSeqlock, WriteSectionMakesTheCounterOddThenEven) {
  auto v = std::make_unique<Vvar>();
  std::memset(v.get(), 0, sizeof(Vvar));
  {
    emulator::VvarWriteSection w(v.get());
    EXPECT_EQ(v->seq, 1u);
    EXPECT_TRUE(seq_retry(v.get(), 0));
  }
  EXPECT_EQ(v->seq, 2u);
  EXPECT_FALSE(seq_retry(v.get(), 2));
}

TEST(VdsoSeqlock, ReadersNeverAcceptATornSnapshot) {
  auto v = std::make_unique<Vvar>();
  std::memset(v.get(), 0, sizeof(Vvar));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t k = 1; k <= 100000; ++k) {
      {
        emulator::VvarWriteSection w(v.get());
        VvarClock& c = v->hres[kClockMonotonic];
        // Pauses between the stores widen the window a torn read would fall into.
        vvar_store(c.base_tsc, k);
        cpu_relax();
        vvar_store(c.base_sec, k);
        cpu_relax();
        vvar_store(c.base_snsec, k);
        cpu_relax();
        vvar_store(c.mult, k);
        cpu_relax();
        vvar_store(v->hres[kClockRealtime].base_sec, k);
      }
      for (uint64_t j = 0; j < k % 32; ++j) cpu_relax();  // gaps of varying length
    }
    done = true;
  });
  uint64_t accepted = 0;
  uint64_t retried = 0;
  uint64_t torn = 0;
  while (!done.load(std::memory_order_relaxed) || accepted == 0) {
    const uint64_t seq = seq_begin(v.get());
    const VvarClock& c = v->hres[kClockMonotonic];
    const uint64_t a = vvar_load(c.base_tsc);
    const uint64_t b = vvar_load(c.base_sec);
    const uint64_t d = vvar_load(c.base_snsec);
    const uint64_t e = vvar_load(c.mult);
    const uint64_t f = vvar_load(v->hres[kClockRealtime].base_sec);
    if ((seq & 1) || seq_retry(v.get(), seq)) {
      ++retried;
      continue;
    }
    ++accepted;
    if (a != b || a != d || a != e || a != f) ++torn;
  }
  writer.join();
  EXPECT_GT(accepted, 0u);
  EXPECT_EQ(torn, 0u) << "of " << accepted << " accepted, " << retried << " retried";
}

}  // namespace
}  // namespace vdso
