// Offsets of the host kernel's __vdso_* functions (LINUX_2.6), via the vDSO's own DT_HASH or
// DT_GNU_HASH, as libc finds them.
#include "emulator/inject/host_vdso.h"

#include <sys/syscall.h>

#include <cstring>

#include <sys/auxv.h>

#include <algorithm>
#include <cstring>

#include "vdso/dynamic_symbols.h"

namespace emulator {

HostVdso HostVdso::of_this_process() {
  const unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
  if (ehdr == 0) return HostVdso{};
  return from_image(vdso::DynamicSymbols::mapped_image(reinterpret_cast<const void*>(ehdr)),
                    nullptr);
}

HostVdso HostVdso::from_image(std::span<const uint8_t> image, std::string* why) {
  HostVdso out;
  const auto syms = vdso::DynamicSymbols::parse(image, why);
  if (!syms) return out;
  for (size_t i = 0; i < out.offsets_.size(); ++i) {
    out.offsets_[i] = syms->lookup(vdso::kHostFunctionNames[i], "LINUX_2.6");
  }
  return out;
}

std::vector<HostVdso::Stub> HostVdso::syscall_stubs(uint64_t host_base) const {
  // Table order (vdso/host_table.h): clock_gettime, gettimeofday, time.
  constexpr std::array<uint32_t, 3> kNumbers = {SYS_clock_gettime, SYS_gettimeofday, SYS_time};
  std::vector<Stub> out;
  if (host_base == 0) return out;
  for (size_t i = 0; i < kNumbers.size(); ++i) {
    if (!offsets_[i]) continue;
    Stub s;
    s.addr = host_base + *offsets_[i];
    s.bytes = {0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0xc3};  // mov $nr,%eax; syscall; ret
    std::memcpy(&s.bytes[1], &kNumbers[i], 4);
    out.push_back(s);
  }
  return out;
}

bool HostVdso::present() const {
  for (const auto& o : offsets_) {
    if (o) return true;
  }
  return false;
}

vdso::HostTable HostVdso::table_for(uint64_t host_base, uint64_t image_base,
                                    const vdso::ImageLinks& links, bool transformed) const {
  uint64_t kernel[vdso::kKernelFunctions];
  for (int i = 0; i < vdso::kKernelFunctions; ++i) {
    kernel[i] = host_base != 0 && offsets_[i] ? host_base + *offsets_[i]
                                              : image_base + links.syscall_stubs[i];
  }
  vdso::HostTable t{};
  t.clock_gettime = kernel[0];
  t.gettimeofday = kernel[1];
  t.time = kernel[2];
  t.getcpu = kernel[3];
  t.clock_getres = kernel[4];
  t.time_route = transformed ? image_base + links.transformed_time : t.time;
  t.coarse_route = transformed ? image_base + links.transformed_coarse : t.clock_gettime;
  return t;
}

HostVdso::Linked HostVdso::link(std::span<const uint8_t> image, uint64_t host_base,
                                uint64_t image_base, const vdso::ImageLinks& links,
                                bool transformed) const {
  const vdso::HostTable table = table_for(host_base, image_base, links, transformed);
  const bool direct_time = table.time_route == table.time && host_base != 0 && offsets_[2];
  uint64_t lo = links.table;
  uint64_t hi = links.table + sizeof table;
  if (direct_time) {
    for (uint64_t at : links.time_values) {
      lo = std::min(lo, at);
      hi = std::max(hi, at + sizeof(uint64_t));
    }
  }
  Linked out;
  if (hi > image.size()) return out;
  out.offset = lo;
  out.bytes.assign(image.begin() + static_cast<ptrdiff_t>(lo),
                   image.begin() + static_cast<ptrdiff_t>(hi));
  std::memcpy(out.bytes.data() + (links.table - lo), &table, sizeof table);
  if (direct_time) {
    const uint64_t value = table.time - image_base;  // wraps: loaders add the base back
    for (uint64_t at : links.time_values) {
      std::memcpy(out.bytes.data() + (at - lo), &value, sizeof value);
    }
  }
  return out;
}

}  // namespace emulator
