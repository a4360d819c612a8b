// Report bookkeeping: what each stop that concerned the page came to, recorded per program
// image and call site (emulator/report/report.h holds the records). The engine says what
// happened with an Outcome; the recorder finds or creates the site and describes it once (its
// module, offset and instruction, read from the live process).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "emulator/report/disasm.h"
#include "emulator/report/report.h"

namespace emulator {

class Recorder {
 public:
  explicit Recorder(Report& report) : report_(report) {}

  // A call to `target` (an entry, or elsewhere in the page) returning to `return_address`,
  // in `img`, the current image of process `pid`.
  void call(ProcessReport& img, pid_t pid, uint64_t target, uint64_t return_address, Outcome o);
  // One call recorded earlier turned out otherwise (the kernel's emulation faulted after all).
  void amend_call(ProcessReport& img, uint64_t target, uint64_t return_address, Outcome from,
                  Outcome to);
  // A data access of the page by the instruction at `rip`. `insn`: its text if known;
  // `reason`: why it was not emulated (Outcome::kReadNotEmulated).
  void read(ProcessReport& img, pid_t pid, uint64_t rip, Outcome o, const std::string& insn,
            const std::string& reason = "");

  // Where `addr` is in `pid`: module, offset, the instruction (the call ending there for a
  // return address).
  CodeSite describe(pid_t pid, uint64_t addr, bool is_return_address);

 private:
  Report& report_;
  Disassembler disasm_;
};

}  // namespace emulator
