// Six remote syscalls: open+mmap+close for the vvar (reserving room for the image too), then
// open+mmap(MAP_FIXED)+close for the image; then the auxv rewrite on the new stack.
#include "emulator/vdso_injector.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstring>

#include "emulator/auxv.h"
#include "emulator/log.h"
#include "emulator/maps.h"
#include "emulator/process_memory.h"
#include "emulator/remote_syscall.h"

namespace emulator {
namespace {

bool is_error(long v) {
  return v < 0 && v > -4096;
}

// The kernel's vDSO of the new image: /proc/PID/auxv is the kernel's own copy of the auxiliary
// vector, which the rewrite of the stack copy never changes. 0 if it has none.
uint64_t kernel_vdso_of(pid_t tid) {
  const auto auxv = read_text_file("/proc/" + std::to_string(tid) + "/auxv");
  if (!auxv) return 0;
  for (size_t off = 0; off + 16 <= auxv->size(); off += 16) {
    uint64_t pair[2];
    std::memcpy(pair, auxv->data() + off, sizeof pair);
    if (pair[0] == AT_SYSINFO_EHDR) return pair[1];
    if (pair[0] == AT_NULL) break;
  }
  return 0;
}

std::string errno_text(long v) {
  return std::strerror(static_cast<int>(-v));
}

// Opens vdsorun's descriptor `fd` in the tracee, read-only; returns the tracee's fd.
std::optional<long> open_ours(RemoteSyscalls& rs, pid_t self, int fd, std::string& why) {
  const std::string path = "/proc/" + std::to_string(self) + "/fd/" + std::to_string(fd);
  auto addr = rs.push_bytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(path.c_str()), path.size() + 1));
  if (!addr) {
    why = "no scratch memory on the new stack";
    return std::nullopt;
  }
  auto r = rs.syscall(SYS_openat, static_cast<uint64_t>(AT_FDCWD), *addr, O_RDONLY | O_CLOEXEC);
  if (!r) {
    why = "the process vanished";
    return std::nullopt;
  }
  if (is_error(*r)) {
    why = "open(" + path + ") in the program failed: " + errno_text(*r);
    return std::nullopt;
  }
  return *r;
}

}  // namespace

namespace {

// The remote part: maps both objects, returns the vvar address. Registers and borrowed bytes
// are restored when `rs` goes out of scope in the caller.
std::optional<uint64_t> map_objects(RemoteSyscalls& rs, const InjectionAssets& a,
                                    std::string& why) {
  auto vvar_fd = open_ours(rs, a.supervisor_pid, a.vvar_fd, why);
  if (!vvar_fd) return std::nullopt;
  // One mapping of the whole span at an address the kernel picks keeps vvar and image
  // adjacent; the image then replaces its upper part.
  const uint64_t span = a.vvar_size + a.image_size;
  auto base =
      rs.syscall(SYS_mmap, 0, span, PROT_READ, MAP_SHARED, static_cast<uint64_t>(*vvar_fd), 0);
  rs.syscall(SYS_close, static_cast<uint64_t>(*vvar_fd));
  if (!base || is_error(*base)) {
    why = base ? "mmap of the vvar failed: " + errno_text(*base) : "the process vanished";
    return std::nullopt;
  }
  const uint64_t vvar = static_cast<uint64_t>(*base);
  auto image_fd = open_ours(rs, a.supervisor_pid, a.image_fd, why);
  std::optional<long> mapped;
  if (image_fd) {
    mapped = rs.syscall(SYS_mmap, vvar + a.vvar_size, a.image_size, PROT_READ | PROT_EXEC,
                        MAP_PRIVATE | MAP_FIXED, static_cast<uint64_t>(*image_fd), 0);
    rs.syscall(SYS_close, static_cast<uint64_t>(*image_fd));
    if (!mapped || is_error(*mapped))
      why =
          mapped ? "mmap of the vDSO image failed: " + errno_text(*mapped) : "the process vanished";
  }
  if (!mapped || is_error(*mapped)) {
    rs.syscall(SYS_munmap, vvar, span);
    return std::nullopt;
  }
  return vvar;
}

}  // namespace

std::optional<Injected> inject_vdso(pid_t tid, const InjectionAssets& a,
                                    std::vector<siginfo_t>& deferred, std::string& why) {
  std::optional<uint64_t> vvar;
  {
    RemoteSyscalls rs(tid);
    if (!rs.ok()) {
      why = "cannot borrow code bytes at the entry point";
      return std::nullopt;
    }
    vvar = map_objects(rs, a, why);
    deferred.insert(deferred.end(), rs.deferred_signals().begin(), rs.deferred_signals().end());
  }  // registers and borrowed bytes restored here
  if (!vvar) return std::nullopt;
  Injected out{*vvar, *vvar + a.vvar_size, kernel_vdso_of(tid)};
  // Link this process's copy of the image before anything points at it. A write through
  // /proc/PID/mem (like a debugger's) copies the page: the memfd stays as it was. If it fails
  // the mapping stays unused and the program keeps the kernel's vDSO.
  const HostVdso::Linked linked =
      a.host.link(a.image, out.host_vdso, out.vdso_addr, a.links, a.transformed);
  if (linked.bytes.empty() ||
      !ProcessMemory(tid).poke(out.vdso_addr + linked.offset, linked.bytes)) {
    why = "cannot write the injected image's host table";
    return std::nullopt;
  }
  if (!rewrite_sysinfo_ehdr(tid, out.vdso_addr)) {
    why = "the new stack has no AT_SYSINFO_EHDR to rewrite";
    return std::nullopt;
  }
  return out;
}

}  // namespace emulator
