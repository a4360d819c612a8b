// The injector's requirements on a vDSO image, checked at build time (the embed step and a
// test) and again when vdsorun starts.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vdso/host_table.h"

namespace vdso {

// The exact dynamic exports, each at version LINUX_2.6: the __vdso_ names are STB_GLOBAL, the
// plain names STB_WEAK aliases at the same address.
inline constexpr std::string_view kExportedFunctions[] = {
    "clock_gettime", "gettimeofday", "time", "getcpu", "clock_getres",
};
inline constexpr std::string_view kSoname = "linux-vdso.so.1";
inline constexpr std::string_view kVersion = "LINUX_2.6";
// The hidden symbol the code reads the vvar through (see vdso.lds and vvar_access.h).
inline constexpr std::string_view kVvarSymbol = "vdso_vvar_page";

// True if `image` (the ELF file, which is also its memory image) is a vDSO the injector can
// map: ELF64 x86-64 ET_DYN; exactly one PT_LOAD, R+X, at offset 0 == address 0, with
// p_filesz == p_memsz; a read-only PT_DYNAMIC; otherwise only PT_NOTE / PT_GNU_EH_FRAME; no
// relocations, DT_NEEDED, initialisers, PLT/GOT, TLS, or writable/.data/.bss sections; soname,
// DT_HASH and DT_GNU_HASH that both find every export; exactly the exports above; the vvar
// symbol kVvarSize bytes below the image; and the host table (host_table.h) as a local
// read-only object with the functions that may fill it. Otherwise false with the first violation in
// *why.
bool check_image(std::span<const uint8_t> image, std::string* why);

// Where the injector links each process's copy of the image (host_table.h): offsets in the
// image of the table and of the image's own functions that may fill its slots.
struct ImageLinks {
  uint64_t table = 0;
  uint64_t syscall_stubs[kKernelFunctions] = {};
  uint64_t transformed_time = 0;
  uint64_t transformed_coarse = 0;
  // The st_value fields of the dynamic symbols `time` and `__vdso_time`: a process whose time()
  // is the kernel's own gets them pointed straight at the kernel vDSO's function, so that
  // libc's time() costs exactly what it costs without vdsorun (no extra jump).
  uint64_t time_values[2] = {};
};
// nullopt if the image lacks any of them in a well-formed state.
std::optional<ImageLinks> image_links(std::span<const uint8_t> image);

}  // namespace vdso
