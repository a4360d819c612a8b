#include "emulator/inject/call_patcher.h"

#include "emulator/others_stopped.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "emulator/log.h"
#include "emulator/trace/maps.h"
#include "emulator/trace/process_memory.h"
#include "emulator/trace/remote_syscall.h"

namespace emulator {
namespace {

// The trampoline must be reachable by a sign-extended imm32 and by rel32 from code in the low
// 2 GiB; vm.mmap_min_addr is at most 64 KiB on the kernels we meet.
constexpr uint64_t kLowLimit = 0x80000000ULL;
constexpr uint64_t kMinAddr = 0x10000ULL;
constexpr uint64_t kTrampolineMapSize = vsyscall::kTrampolineCodeSize + kPatchCountersSize;
#ifndef MAP_FIXED_NOREPLACE
constexpr int MAP_FIXED_NOREPLACE = 0x100000;
#endif

// The highest free range of `size` bytes below 2 GiB: far from the brk heap, which grows up
// from just above a non-PIE program.
std::optional<uint64_t> low_hole(const std::vector<MapEntry>& maps, uint64_t size) {
  // /proc/PID/maps lists mappings in ascending order: walk down from the top.
  uint64_t top = kLowLimit;
  for (auto m = maps.rbegin(); m != maps.rend(); ++m) {
    if (m->start >= top) continue;
    if (m->end + size <= top) break;
    top = m->start;
  }
  if (top < kMinAddr + size) return std::nullopt;
  return top - size;
}

}  // namespace

CallPatcher::CallPatcher(pid_t supervisor, vsyscall::TrampolineFlavor flavor)
    : supervisor_(supervisor), flavor_(flavor) {
  counters_fd_.reset(static_cast<int>(::syscall(SYS_memfd_create, "vdsorun-patch-counters", MFD_CLOEXEC)));
  if (!counters_fd_ || ftruncate(counters_fd_.get(), kPatchCountersSize) != 0) return;
  void* p = mmap(nullptr, kPatchCountersSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                 counters_fd_.get(), 0);
  if (p != MAP_FAILED) counters_ = static_cast<uint64_t*>(p);
}

CallPatcher::~CallPatcher() {
  if (counters_) munmap(counters_, kPatchCountersSize);
}

void CallPatcher::on_shared_counters(PatchState& p, pid_t pid) {
  if (p.shared) return;
  p.shared = true;
  ProcessMemory mem(pid);
  const uint8_t lock = vsyscall::kLockPrefix;
  for (size_t i = 0; i < p.stubs; ++i)
    mem.poke(p.page + vsyscall::trampoline_stub_offset(i) + vsyscall::kTrampolineStubLockOffset,
             std::span<const uint8_t>(&lock, 1));
}

bool CallPatcher::wants(PatchState& p, uint64_t return_address) {
  if (!ok() || p.disabled || !p.fns) return false;
  return p.attempted.insert(return_address).second;
}

bool CallPatcher::map_trampoline(PatchState& p, pid_t pid, pid_t tid, std::vector<siginfo_t>& deferred,
                                 std::string& why) {
  const auto hole = low_hole(read_maps(pid), kTrampolineMapSize);
  if (!hole) {
    why = "no free address below 2 GiB for the trampoline";
    return false;
  }
  RemoteSyscalls rs(tid);
  if (!rs.ok()) {
    why = "cannot run system calls in the process";
    return false;
  }
  auto fail = [&](const char* what) {
    deferred.insert(deferred.end(), rs.deferred_signals().begin(), rs.deferred_signals().end());
    why = what;
    return false;
  };
  auto at = rs.syscall(SYS_mmap, *hole, kTrampolineMapSize, PROT_READ | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0);
  if (!at || static_cast<uint64_t>(*at) != *hole) return fail("mmap of the trampoline page failed");
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fd/%d", supervisor_, counters_fd_.get());
  const auto path_addr = rs.push_bytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(path), std::strlen(path) + 1));
  auto fd = path_addr ? rs.syscall(SYS_openat, static_cast<uint64_t>(AT_FDCWD), *path_addr,
                                   O_RDWR | O_CLOEXEC)
                      : std::nullopt;
  bool counters_mapped = false;
  if (fd && *fd >= 0) {
    auto m = rs.syscall(SYS_mmap, *hole + vsyscall::kTrampolineCodeSize, kPatchCountersSize,
                        PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, static_cast<uint64_t>(*fd), 0);
    counters_mapped = m && static_cast<uint64_t>(*m) == *hole + vsyscall::kTrampolineCodeSize;
    rs.syscall(SYS_close, static_cast<uint64_t>(*fd));
  }
  if (!counters_mapped) {
    rs.syscall(SYS_munmap, *hole, kTrampolineMapSize);
    return fail("cannot map the call counters into the process");
  }
  const auto code = vsyscall::trampoline_page(*p.fns);
  if (!ProcessMemory(tid).poke(*hole, code)) {
    rs.syscall(SYS_munmap, *hole, kTrampolineMapSize);
    return fail("cannot write the trampoline page");
  }
  deferred.insert(deferred.end(), rs.deferred_signals().begin(), rs.deferred_signals().end());
  p.page = *hole;
  // Threads made before the first patch count at the same time as this one.
  if (proc_status_field(pid, "Threads").value_or(1) > 1) p.shared = true;
  VDSORUN_LOG(kDebug, "pid %d: trampoline page at %#llx", pid, static_cast<unsigned long long>(*hole));
  return true;
}

CallPatcher::Result CallPatcher::patch(PatchState& p, pid_t pid, pid_t tid, vsyscall::Entry entry,
                                       uint64_t return_address, const StopOthers& stop_others,
                                       std::vector<siginfo_t>& deferred) {
  Result r;
  if (p.disabled || !p.fns) {
    r.reason = "not patchable in this process";
    return r;
  }
  ProcessMemory mem(tid);
  auto site = vsyscall::find_call_site(mem, return_address, vsyscall::entry_address(entry), &r.reason);
  if (!site) return r;
  r.form = site->form;
  for (const PatchState::Site& s : p.sites) {
    if (s.field_addr == site->field_addr) {
      r.reason = "shares its patched address with another site";
      return r;
    }
  }
  // Only the process's private copy may change: never a file or memory shared with others.
  const auto maps = read_maps(pid);
  const MapEntry* m = find_mapping(maps, site->field_addr);
  if (!m || m->perms.size() < 4 || m->perms[3] != 'p' ||
      !find_mapping(maps, site->field_addr + site->field_size() - 1) ||
      find_mapping(maps, site->field_addr + site->field_size() - 1) != m) {
    r.reason = "the code is not in a private mapping";
    return r;
  }
  if (p.stubs >= vsyscall::kTrampolineStubCapacity ||
      next_counter_ >= kPatchCountersSize / sizeof(uint64_t)) {
    r.reason = "no trampoline slot left";
    return r;
  }
  // Every other thread stops from here on: the set-up borrows code bytes at this thread's rip
  // for its system calls (another thread running them would make our syscall), and a 4- or
  // 8-byte store is not atomic for another CPU fetching the instruction.
  OthersStopped others(stop_others());
  if (!p.page && !map_trampoline(p, pid, tid, deferred, r.reason)) return r;
  const uint64_t stub = p.page + vsyscall::trampoline_stub_offset(p.stubs);
  auto field = vsyscall::call_site_field(*site, stub);
  if (!field) {
    r.reason = "the trampoline is out of the instruction's reach";
    return r;
  }
  PatchState::Site s;
  s.field_addr = site->field_addr;
  s.original.resize(site->field_size());
  if (mem.read_partial(s.field_addr, s.original) != s.original.size()) {
    r.reason = "cannot read the code";
    return r;
  }
  const uint32_t counter = next_counter_;
  const uint64_t counter_addr = p.page + vsyscall::kTrampolineCodeSize + counter * sizeof(uint64_t);
  const auto code =
      vsyscall::trampoline_stub(p.page, p.stubs, entry, flavor_, counter_addr, p.shared);
  if (!mem.poke(stub, code)) {
    r.reason = "cannot write the stub";
    return r;
  }
  if (!mem.poke(s.field_addr, *field)) {
    r.reason = "cannot write the call site";
    return r;
  }
  ++next_counter_;
  ++p.stubs;
  s.patched = *field;
  s.stub = stub;
  p.sites.push_back(std::move(s));
  p.stub_counter[stub] = counter;
  r.patched = true;
  r.counter = counter;
  return r;
}

std::optional<CallPatcher::Rewound> CallPatcher::rewind(const PatchState& p, pid_t tid,
                                                        const vsyscall::Gpr& regs) {
  if (!p.page) return std::nullopt;
  if (regs.rip < p.page || regs.rip >= p.page + vsyscall::kTrampolineCodeSize) return std::nullopt;
  const auto entry = vsyscall::trampoline_copy_entry(regs.rip - p.page);
  if (!entry) return std::nullopt;
  std::array<uint64_t, vsyscall::kTrampolineFrameWords> frame{};
  ProcessMemory mem(tid);
  if (!mem.read(regs.rsp, std::span<uint8_t>(reinterpret_cast<uint8_t*>(frame.data()),
                                             sizeof frame)))
    return std::nullopt;
  // The stub the site called is in rax for `mov $stub,%rax; call *%rax`; for other forms the
  // caller is not known here and its count keeps this call (it is also recorded as a stop).
  constexpr size_t kRaxWord = 12;
  uint64_t stub = 0;
  if (auto s = p.stub_counter.find(frame[kRaxWord]); s != p.stub_counter.end()) {
    stub = s->first;
    __atomic_fetch_sub(&counters_[s->second], 1, __ATOMIC_RELAXED);
  }
  return Rewound{vsyscall::trampoline_rewind(regs, frame, *entry, stub),
                 p.page + vsyscall::trampoline_reset_trap_offset(),
                 p.page + vsyscall::trampoline_reset_divide_offset()};
}

void CallPatcher::unpatch_all(PatchState& p, pid_t tid, const StopOthers& stop_others) {
  p.disabled = true;
  if (p.sites.empty()) return;
  ProcessMemory mem(tid);
  {
    OthersStopped others(stop_others());
    for (const PatchState::Site& s : p.sites) mem.poke(s.field_addr, s.original);
  }
  p.sites.clear();
}

uint64_t CallPatcher::count(uint32_t index) const {
  if (!counters_ || index >= kPatchCountersSize / sizeof(uint64_t)) return 0;
  return __atomic_load_n(&counters_[index], __ATOMIC_RELAXED);
}

}  // namespace emulator
