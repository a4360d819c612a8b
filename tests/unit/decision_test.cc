// Table tests of the per-mode decisions (DESIGN.md 3.4).
#include "vsyscall/decision.h"

#include <gtest/gtest.h>

#include "vsyscall/page.h"

namespace vsyscall {
namespace {

constexpr uint64_t kTimeEntry = kPageBase + 0x400;
constexpr uint64_t kMisaligned = kPageBase + 0x401;
constexpr uint64_t kFiller = kPageBase + 0xc00;  // a 4th "entry" slot that does not exist

TEST(Decision, SeccompEntryCallPerMode) {
  for (Entry e : kAllEntries) {
    for (bool vvar : {false, true}) {
      EXPECT_EQ(on_seccomp_entry_call(Mode::kNone, e, vvar), Action::kFetchFault);
      EXPECT_EQ(on_seccomp_entry_call(Mode::kNative, e, vvar), Action::kNativeCall);
    }
    EXPECT_EQ(on_seccomp_entry_call(Mode::kXonly, e, false), Action::kPassThrough);
    EXPECT_EQ(on_seccomp_entry_call(Mode::kEmulate, e, false), Action::kPassThrough);
  }
  // With an injected vvar the clock calls answer from it; getcpu stays the kernel's.
  for (Mode m : {Mode::kXonly, Mode::kEmulate}) {
    EXPECT_EQ(on_seccomp_entry_call(m, Entry::kGettimeofday, true), Action::kAnswerFromVvar);
    EXPECT_EQ(on_seccomp_entry_call(m, Entry::kTime, true), Action::kAnswerFromVvar);
    EXPECT_EQ(on_seccomp_entry_call(m, Entry::kGetcpu, true), Action::kPassThrough);
  }
}

TEST(Decision, ProgramsOwnSigsysPerMode) {
  EXPECT_EQ(on_program_sigsys(Mode::kNone), Action::kFetchFault);
  EXPECT_EQ(on_program_sigsys(Mode::kXonly), Action::kPassThrough);
  EXPECT_EQ(on_program_sigsys(Mode::kEmulate), Action::kPassThrough);
  EXPECT_EQ(on_program_sigsys(Mode::kNative), Action::kNativeSigsys);
}

TEST(Decision, CallSitesArePatchedInEveryModeButNone) {
  EXPECT_FALSE(patches_call_sites(Mode::kNone));
  EXPECT_TRUE(patches_call_sites(Mode::kXonly));
  EXPECT_TRUE(patches_call_sites(Mode::kEmulate));
  EXPECT_TRUE(patches_call_sites(Mode::kNative));
}

TEST(Decision, FaultInPageTable) {
  struct Row {
    Mode mode;
    uint64_t rip;
    bool raw_fetch_fault;
    Action want;
  };
  const Row rows[] = {
      // none: a raw fetch fault is already what a none kernel delivers; anything the host's
      // emulation raised must become that fetch fault.
      {Mode::kNone, kPageBase, true, Action::kPassThrough},
      {Mode::kNone, kMisaligned, true, Action::kPassThrough},
      {Mode::kNone, kPageBase, false, Action::kFetchFault},
      {Mode::kNone, kMisaligned, false, Action::kFetchFault},
      // xonly/emulate: on a none host, entries are emulated and the rest is SI_KERNEL; on an
      // xonly/emulate host the kernel already decided.
      {Mode::kXonly, kPageBase, true, Action::kEmulateCall},
      {Mode::kXonly, kTimeEntry, true, Action::kEmulateCall},
      {Mode::kXonly, kPageBase + 0x800, true, Action::kEmulateCall},
      {Mode::kXonly, kMisaligned, true, Action::kKernelSigsegv},
      {Mode::kXonly, kFiller, true, Action::kKernelSigsegv},
      {Mode::kXonly, kTimeEntry, false, Action::kPassThrough},
      {Mode::kXonly, kMisaligned, false, Action::kPassThrough},
      {Mode::kEmulate, kTimeEntry, true, Action::kEmulateCall},
      {Mode::kEmulate, kMisaligned, true, Action::kKernelSigsegv},
      {Mode::kEmulate, kTimeEntry, false, Action::kPassThrough},
      // native: the page's code runs whatever the host did.
      {Mode::kNative, kTimeEntry, true, Action::kNativeCall},
      {Mode::kNative, kTimeEntry, false, Action::kNativeCall},
      {Mode::kNative, kMisaligned, true, Action::kNativeExecute},
      {Mode::kNative, kFiller, false, Action::kNativeExecute},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(on_fault_in_page(r.mode, r.rip, r.raw_fetch_fault), r.want)
        << mode_name(r.mode) << " rip=" << std::hex << r.rip << " raw=" << r.raw_fetch_fault
        << " got " << action_name(on_fault_in_page(r.mode, r.rip, r.raw_fetch_fault));
  }
}

TEST(Decision, DataAccessIsEmulatedOnlyWhereThePageIsReadable) {
  EXPECT_EQ(on_data_access(Mode::kNone), Action::kPassThrough);
  EXPECT_EQ(on_data_access(Mode::kXonly), Action::kPassThrough);
  EXPECT_EQ(on_data_access(Mode::kEmulate), Action::kEmulateRead);
  EXPECT_EQ(on_data_access(Mode::kNative), Action::kEmulateRead);
}

TEST(Decision, ActionNamesForTheReport) {
  EXPECT_EQ(action_name(Action::kPassThrough), "pass-through");
  EXPECT_EQ(action_name(Action::kEmulateCall), "emulated");
  EXPECT_EQ(action_name(Action::kNativeCall), "native-call");
  EXPECT_EQ(action_name(Action::kNativeExecute), "native-execute");
  EXPECT_EQ(action_name(Action::kFetchFault), "sigsegv");
  EXPECT_EQ(action_name(Action::kKernelSigsegv), "sigsegv");
  EXPECT_EQ(action_name(Action::kEmulateRead), "read-emulated");
}

}  // namespace
}  // namespace vsyscall
