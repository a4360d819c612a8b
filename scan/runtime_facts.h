// What an ELF file was built with: its libc (static glibc banner, GLIBC_ version needs, musl)
// and, for Go programs, the Go version from the build info.
#pragma once

#include <span>
#include <string>

#include "scan/elf_image.h"
#include "vsyscall/static_scan.h"

namespace scan {

struct FileRuntime {
  vsyscall::RuntimeFacts facts;
  std::string libc;        // "glibc 2.36 (static)", "glibc (needs GLIBC_2.34)", "musl", ""
  std::string go_version;  // "go1.19.8", "go (no build info)", ""
};

FileRuntime runtime_of(const ElfImage& elf);

// Parts, exposed for the unit tests.
// The version in a glibc banner: "... stable release version 2.13, by ..." -> "2.13".
std::string glibc_banner_version(std::span<const uint8_t> bytes);
// The Go version in a `\xff Go buildinf:` blob; `elf` resolves the pointer form (Go < 1.18).
std::string go_buildinfo_version(std::span<const uint8_t> blob, const ElfImage* elf);

}  // namespace scan
