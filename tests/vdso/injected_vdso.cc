// The injected vDSO loaded into this process as the injector maps it (see injected_vdso.h).
#include "tests/vdso/injected_vdso.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "emulator/clock/clock_choice.h"
#include "emulator/inject/host_vdso.h"
#include "emulator/clock/timekeeper_probe.h"
#include "vdso/dynamic_symbols.h"
#include "vdso/image.h"

namespace vdso_test {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Maps `size` bytes of the object behind `path` at `addr`, through a fresh descriptor as a
// tracee would obtain one.
void map_at(void* addr, size_t size, const std::string& path, int prot, int flags) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open(" + path + ")");
  void* got = ::mmap(addr, size, prot, flags | MAP_FIXED, fd, 0);
  const int err = errno;
  ::close(fd);
  errno = err;
  if (got == MAP_FAILED) fail("mmap(" + path + ")");
}

template <typename F>
bool bind(const vdso::DynamicSymbols& syms, const uint8_t* base, const char* name, F*& out) {
  const auto value = syms.lookup(name, "LINUX_2.6");
  if (!value) return false;
  out = reinterpret_cast<F*>(reinterpret_cast<uintptr_t>(base + *value));
  return true;
}

}  // namespace

std::optional<VdsoFunctions> resolve(const void* ehdr, std::string* why) {
  const auto image = vdso::DynamicSymbols::mapped_image(ehdr);
  const auto syms = vdso::DynamicSymbols::parse(image, why);
  if (!syms) return std::nullopt;
  const auto* base = static_cast<const uint8_t*>(ehdr);
  VdsoFunctions fn;
  if (!bind(*syms, base, "__vdso_clock_gettime", fn.clock_gettime) ||
      !bind(*syms, base, "__vdso_gettimeofday", fn.gettimeofday) ||
      !bind(*syms, base, "__vdso_time", fn.time) ||
      !bind(*syms, base, "__vdso_getcpu", fn.getcpu) ||
      !bind(*syms, base, "__vdso_clock_getres", fn.clock_getres)) {
    if (why != nullptr) *why = "a __vdso_ function is missing";
    return std::nullopt;
  }
  return fn;
}

std::optional<VdsoFunctions> host_vdso() {
  const auto ehdr = getauxval(AT_SYSINFO_EHDR);
  if (ehdr == 0) return std::nullopt;
  return resolve(reinterpret_cast<const void*>(ehdr), nullptr);
}

std::optional<std::string> tsc_path_unavailable() {
  const emulator::ClockChoice c = emulator::choose_clock(
      {emulator::current_clocksource(), emulator::cpu_flags(), getauxval(AT_SYSINFO_EHDR) != 0});
  if (c.path == emulator::ClockPath::kTsc) return std::nullopt;
  return c.why;
}

InjectedVdso::InjectedVdso(emulator::TimekeeperOptions options,
                           std::function<void(vdso::HostTable&)> adjust)
    : image_(vdso::image()), size_(vdso::injection_size()) {
  void* x = ::mmap(nullptr, size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (x == MAP_FAILED) fail("mmap(reserve)");
  base_ = static_cast<uint8_t*>(x);
  try {
    map_at(base_, vdso::kVvarSize, vvar_.proc_path(), PROT_READ, MAP_SHARED);
    map_at(base_ + vdso::kImageOffset, image_.map_size(), image_.proc_path(), PROT_READ | PROT_EXEC,
           MAP_PRIVATE);
    // As the injector does: a debugger-style write into this copy of the image.
    const auto links = vdso::image_links(vdso::image());
    if (!links) throw std::runtime_error("the vDSO image has no host table");
    const auto host = emulator::HostVdso::of_this_process();
    const uint64_t image_base = reinterpret_cast<uint64_t>(ehdr());
    auto linked = host.link(vdso::image(), getauxval(AT_SYSINFO_EHDR), image_base, *links, false);
    if (adjust) {
      // A substituted table: time() keeps its own entry point, which follows time_route.
      vdso::HostTable table = host.table_for(getauxval(AT_SYSINFO_EHDR), image_base, *links, false);
      adjust(table);
      linked.offset = links->table;
      linked.bytes.assign(reinterpret_cast<const uint8_t*>(&table),
                          reinterpret_cast<const uint8_t*>(&table) + sizeof table);
    }
    const int mem = ::open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (mem < 0) fail("open(/proc/self/mem)");
    const ssize_t n = ::pwrite(mem, linked.bytes.data(), linked.bytes.size(),
                               static_cast<off_t>(image_base + linked.offset));
    ::close(mem);
    if (n != static_cast<ssize_t>(linked.bytes.size())) fail("linking the image");
    std::string why;
    const auto fn = resolve(ehdr(), &why);
    if (!fn) throw std::runtime_error("cannot resolve the injected vDSO: " + why);
    fn_ = *fn;
    timekeeper_ = std::make_unique<emulator::Timekeeper>(vvar_.page(), std::move(options));
  } catch (...) {
    ::munmap(base_, size_);
    throw;
  }
}

InjectedVdso::~InjectedVdso() {
  timekeeper_.reset();
  ::munmap(base_, size_);
}

const void* InjectedVdso::ehdr() const {
  return base_ + vdso::kImageOffset;
}

}  // namespace vdso_test
