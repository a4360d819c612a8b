// What the chosen mode does about each way a program can touch the page (DESIGN.md 3.4),
// as pure functions of (mode, host, what happened). The engine carries the answer out.
#pragma once

#include <cstdint>
#include <string_view>

#include "vsyscall/mode.h"
#include "vsyscall/page.h"

namespace vsyscall {

enum class Action {
  kPassThrough,    // let the host kernel's own result stand (continue / deliver as is)
  kEmulateCall,    // perform_call(kEmulated)
  kNativeCall,     // perform_call(kNative)
  kNativeExecute,  // run the page image's bytes at a non-entry address (native mode)
  kFetchFault,     // SIGSEGV SEGV_MAPERR as an instruction fetch at the address (none)
  kKernelSigsegv,  // SIGSEGV SI_KERNEL with the registers untouched (bad call, xonly/emulate)
  kEmulateRead,    // emulate_read(): the load returns the page image
  kAnswerFromVvar,  // answer the call from vdsorun's clock (the injected vvar's, or the tree's
                    // virtual clock); the kernel emulates the ret
  kNativeSigsys,    // the SIGSYS names the page's own syscall (rip and rcx at entry + 9)
};

std::string_view action_name(Action a);

// A call to an exact entry caught at a seccomp stop (host xonly/emulate: the kernel is about
// to emulate it and has already checked the return address and the pointers). `own_clock`:
// emulated calls must read vdsorun's clock, not the kernel's (an injected vvar they must agree
// with, or a time transform).
Action on_seccomp_entry_call(Mode mode, Entry entry, bool own_clock);

// A SIGSYS that the program's own seccomp filter raised (SECCOMP_RET_TRAP) for a call at an
// entry: the host kernel consulted it, as an emulating kernel does, and emulated the `ret`.
Action on_program_sigsys(Mode mode);

// Whether a call site that called an entry may be patched to stop no more: in every mode but
// none, whose calls must fault.
bool patches_call_sites(Mode mode);

// A SIGSEGV whose rip is inside the page. `raw_fetch_fault` is true when this is the CPU's
// own fault on executing the page (none host: si_addr == rip, SEGV_MAPERR); false when the
// host kernel's emulation raised it (bad pointer, bad stack, misaligned entry).
Action on_fault_in_page(Mode mode, uint64_t rip, bool raw_fetch_fault);

// A SIGSEGV for a data access whose si_addr is inside the page (rip elsewhere).
Action on_data_access(Mode mode);

}  // namespace vsyscall
