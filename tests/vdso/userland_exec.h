// A test-only stand-in for the injector's auxv rewrite: starts a dynamically linked program in
// the calling (freshly forked) process without execve, by mapping its ELF interpreter,
// building a new stack whose auxiliary vector is this process's with AT_SYSINFO_EHDR replaced,
// and jumping to the interpreter as if the kernel had run it. Lets the tests show that glibc's
// own loader and libc accept and use the injected vDSO.
#pragma once

#include <elf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vdso_test {

class UserlandExec {
 public:
  // Everything that allocates happens here, before fork(): the interpreter path (PT_INTERP of
  // `program`), argv, and this process's auxv with AT_SYSINFO_EHDR set to sysinfo_ehdr.
  static std::optional<UserlandExec> prepare(const std::string& program,
                                             const std::vector<std::string>& args,
                                             uint64_t sysinfo_ehdr, std::string* why);

  // In the forked child: only syscalls and stack memory. Returns only on failure (with a
  // step number for the exit status); on success the program runs in this process.
  int run() const;

 private:
  std::string interp_;
  std::vector<std::string> args_;  // interp, program, args...
  std::vector<const char*> argv_;
  std::vector<Elf64_auxv_t> auxv_;  // ends with AT_NULL
  std::string execfn_;
};

}  // namespace vdso_test
