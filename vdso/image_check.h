// The injector's requirements on a vDSO image, checked at build time (the embed step and a
// test) and again when vdsorun starts.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

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
// DT_HASH and DT_GNU_HASH that both find every export; exactly the exports above; and the vvar
// symbol kVvarSize bytes below the image. Otherwise false with the first violation in *why.
bool check_image(std::span<const uint8_t> image, std::string* why);

}  // namespace vdso
