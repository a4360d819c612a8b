// process_vm_readv/writev respect page protections the way the kernel's copy_to_user does,
// which is what vsyscall emulation needs (a write to a read-only page must fail).
#include "emulator/trace/process_memory.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>

#include "emulator/trace/unique_fd.h"

namespace emulator {

bool ProcessMemory::read(uint64_t addr, std::span<uint8_t> out) {
  if (out.empty()) return true;
  iovec local{out.data(), out.size()};
  iovec remote{reinterpret_cast<void*>(addr), out.size()};
  ssize_t n = process_vm_readv(tid_, &local, 1, &remote, 1, 0);
  return n == static_cast<ssize_t>(out.size());
}

bool ProcessMemory::write(uint64_t addr, std::span<const uint8_t> in) {
  if (in.empty()) return true;
  iovec local{const_cast<uint8_t*>(in.data()), in.size()};
  iovec remote{reinterpret_cast<void*>(addr), in.size()};
  ssize_t n = process_vm_writev(tid_, &local, 1, &remote, 1, 0);
  return n == static_cast<ssize_t>(in.size());
}

bool ProcessMemory::poke(uint64_t addr, std::span<const uint8_t> in) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/mem", tid_);
  UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
  if (!fd) return false;
  ssize_t n = ::pwrite(fd.get(), in.data(), in.size(), static_cast<off_t>(addr));
  return n == static_cast<ssize_t>(in.size());
}

std::optional<uint64_t> ProcessMemory::read_u64(uint64_t addr) {
  uint64_t v = 0;
  if (!read(addr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v)))
    return std::nullopt;
  return v;
}

size_t ProcessMemory::read_partial(uint64_t addr, std::span<uint8_t> out) {
  if (read(addr, out)) return out.size();
  // Fall back byte-range by byte-range through /proc/PID/mem (also reads --x pages).
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/mem", tid_);
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return 0;
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n =
        ::pread(fd.get(), out.data() + got, out.size() - got, static_cast<off_t>(addr + got));
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

}  // namespace emulator
