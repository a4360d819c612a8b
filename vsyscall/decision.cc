// The table of DESIGN.md 3.4, one function per column.
#include "vsyscall/decision.h"

#include "vsyscall/page.h"

namespace vsyscall {

std::string_view action_name(Action a) {
  switch (a) {
    case Action::kPassThrough:
      return "pass-through";
    case Action::kEmulateCall:
      return "emulated";
    case Action::kNativeCall:
      return "native-call";
    case Action::kNativeExecute:
      return "native-execute";
    case Action::kFetchFault:
      return "sigsegv";
    case Action::kKernelSigsegv:
      return "sigsegv";
    case Action::kEmulateRead:
      return "read-emulated";
    case Action::kAnswerFromVvar:
      return "emulated";
    case Action::kNativeSigsys:
      return "native-sigsys";
  }
  return "?";
}

Action on_seccomp_entry_call(Mode mode, Entry entry, bool own_clock) {
  switch (mode) {
    case Mode::kNone:
      return Action::kFetchFault;
    case Mode::kXonly:
    case Mode::kEmulate:
      // The host kernel emulates it exactly, from its own clock. With an injected vvar the
      // clock calls answer from it, so that they agree with the vDSO; getcpu has no clock.
      return own_clock && entry != Entry::kGetcpu ? Action::kAnswerFromVvar : Action::kPassThrough;
    case Mode::kNative:
      return Action::kNativeCall;
  }
  return Action::kPassThrough;
}

Action on_program_sigsys(Mode mode) {
  switch (mode) {
    case Mode::kNone:
      return Action::kFetchFault;  // a none kernel faults on the fetch, never asks seccomp
    case Mode::kXonly:
    case Mode::kEmulate:
      return Action::kPassThrough;  // what an emulating kernel gives
    case Mode::kNative:
      return Action::kNativeSigsys;  // the filter saw the page's own syscall
  }
  return Action::kPassThrough;
}

bool patches_call_sites(Mode mode) {
  return mode != Mode::kNone;
}

Action on_fault_in_page(Mode mode, uint64_t rip, bool raw_fetch_fault) {
  const bool at_entry = entry_at(rip).has_value();
  switch (mode) {
    case Mode::kNone:
      // A none kernel never emulates: a raw fetch fault is already the right signal; a signal
      // from the host's emulation must become one.
      return raw_fetch_fault ? Action::kPassThrough : Action::kFetchFault;
    case Mode::kXonly:
    case Mode::kEmulate:
      if (!raw_fetch_fault) return Action::kPassThrough;  // the host kernel already decided
      return at_entry ? Action::kEmulateCall : Action::kKernelSigsegv;
    case Mode::kNative:
      return at_entry ? Action::kNativeCall : Action::kNativeExecute;
  }
  return Action::kPassThrough;
}

Action on_data_access(Mode mode) {
  return page_readable(mode) ? Action::kEmulateRead : Action::kPassThrough;
}

}  // namespace vsyscall
