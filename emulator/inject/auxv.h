// The initial stack of a new image (argc, argv, envp, auxv) and the AT_SYSINFO_EHDR rewrite.
// The dynamic linker and getauxval() read this copy; /proc/PID/auxv keeps the kernel's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace emulator {

struct AuxvEntry {
  uint64_t type;
  uint64_t value;
  size_t offset;  // byte offset of the entry from the stack pointer
};

// Parses the bytes at the new image's rsp. nullopt if they are not a well-formed initial
// stack (no AT_NULL within the bytes given).
std::optional<std::vector<AuxvEntry>> parse_initial_stack(std::span<const uint8_t> stack);

// In a tracee stopped at PTRACE_EVENT_EXEC: sets AT_SYSINFO_EHDR to `value`, or turns it into
// AT_IGNORE when value is nullopt. Returns the value it replaced (the kernel's vDSO);
// nullopt if there was no AT_SYSINFO_EHDR or the stack could not be read or written.
std::optional<uint64_t> rewrite_sysinfo_ehdr(pid_t tid, std::optional<uint64_t> value);

}  // namespace emulator
