// Libc and Go detection from banners, version needs, interpreters and Go build info.
#include "scan/runtime_facts.h"

#include <cstring>
#include <string_view>

namespace scan {
namespace {

constexpr std::string_view kGlibcBanner = "GNU C Library";
constexpr std::string_view kGoBuildInfo = "\xff Go buildinf:";

const uint8_t* find(std::span<const uint8_t> hay, std::string_view needle) {
  if (hay.empty()) return nullptr;  // an empty section's span has no pointer for memmem
  return static_cast<const uint8_t*>(memmem(hay.data(), hay.size(), needle.data(), needle.size()));
}

uint64_t load_le(std::span<const uint8_t> b, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size && i < b.size(); ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
  return v;
}

// A Go string header (pointer, length) at `vaddr`, read through the file's segments.
std::string go_string_at(const ElfImage& elf, uint64_t vaddr, size_t ptr_size) {
  const auto hdr = elf.at_vaddr(vaddr, 2 * ptr_size);
  if (hdr.size() != 2 * ptr_size) return {};
  const uint64_t data = load_le(hdr, ptr_size);
  const uint64_t len = load_le(hdr.subspan(ptr_size), ptr_size);
  if (len == 0 || len > 256) return {};
  const auto s = elf.at_vaddr(data, len);
  if (s.size() != len) return {};
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

bool is_version_char(uint8_t c) {
  return (c >= '0' && c <= '9') || c == '.';
}

}  // namespace

std::string glibc_banner_version(std::span<const uint8_t> bytes) {
  const uint8_t* p = find(bytes, kGlibcBanner);
  if (p == nullptr) return {};
  // The banner is one NUL-terminated string; its version follows "version ".
  const uint8_t* end = bytes.data() + bytes.size();
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(p, 0, static_cast<size_t>(end - p)));
  if (nul == nullptr) nul = end;
  const std::string_view banner(reinterpret_cast<const char*>(p), static_cast<size_t>(nul - p));
  const size_t at = banner.find("version ");
  if (at == std::string_view::npos) return "?";
  size_t i = at + 8;
  size_t j = i;
  while (j < banner.size() && is_version_char(static_cast<uint8_t>(banner[j]))) ++j;
  while (j > i && banner[j - 1] == '.') --j;  // "version 2.36." ends a sentence
  return j > i ? std::string(banner.substr(i, j - i)) : "?";
}

std::string go_buildinfo_version(std::span<const uint8_t> blob, const ElfImage* elf) {
  if (blob.size() < 32 || std::memcmp(blob.data(), kGoBuildInfo.data(), kGoBuildInfo.size()) != 0)
    return {};
  const size_t ptr_size = blob[14];
  const uint8_t flags = blob[15];
  if ((flags & 2) != 0) {
    // Go 1.18+: the version is inline after the 32-byte header, a uvarint length first.
    size_t i = 32;
    uint64_t len = 0;
    for (int shift = 0; i < blob.size() && shift < 63; shift += 7) {
      const uint8_t b = blob[i++];
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (len == 0 || len > 256 || i + len > blob.size()) return {};
    return std::string(reinterpret_cast<const char*>(blob.data() + i), len);
  }
  if ((flags & 1) != 0 || (ptr_size != 4 && ptr_size != 8) || elf == nullptr) return {};
  // Go 1.13-1.17: a pointer to the version's string header follows the magic.
  return go_string_at(*elf, load_le(blob.subspan(16), ptr_size), ptr_size);
}

FileRuntime runtime_of(const ElfImage& elf) {
  FileRuntime rt;
  vsyscall::RuntimeFacts& f = rt.facts;

  // libc. A static glibc (and libc.so.6 itself) carries the banner in .rodata.
  const Section* rodata = elf.section(".rodata");
  const std::string banner = rodata != nullptr ? glibc_banner_version(elf.contents(*rodata)) : "";
  const std::string soname = elf.soname();
  const std::string interp = elf.interpreter();
  if (!banner.empty()) {
    f.glibc = vsyscall::parse_version(banner);
    f.is_glibc_itself = true;
    rt.libc = "glibc " + banner + (soname.rfind("libc.so", 0) == 0 ? "" : " (static)");
  } else if (interp.find("ld-musl") != std::string::npos || soname.find("musl") == 0) {
    rt.libc = "musl";
  } else {
    std::optional<vsyscall::Version> max;
    std::string max_name;
    for (const std::string& v : elf.version_needs()) {
      if (v.rfind("GLIBC_", 0) != 0) continue;
      const auto ver = vsyscall::parse_version(std::string_view(v).substr(6));
      if (ver && (!max || *max < *ver)) {
        max = ver;
        max_name = v;
      }
    }
    if (max) {
      f.glibc = max;
      rt.libc = "glibc (needs " + max_name + ")";
    } else if (interp.empty() && elf.section(".dynamic") == nullptr &&
               elf.section(".note.ABI-tag") != nullptr) {
      // Static glibc without its banner (only linked in when something prints it) still
      // carries the ABI note; musl and Go write none.
      rt.libc = "glibc (static)";
    } else {
      for (const std::string& n : elf.needed()) {
        if (n.find("musl") != std::string::npos) rt.libc = "musl";
      }
    }
  }

  // Go: the build info section (Go 1.13+), else the runtime.buildVersion symbol.
  const bool go_sections = elf.section(".gopclntab") != nullptr ||
                           elf.section(".note.go.buildid") != nullptr ||
                           elf.section(".go.buildinfo") != nullptr;
  std::string go;
  if (const Section* bi = elf.section(".go.buildinfo")) {
    const auto c = elf.contents(*bi);
    if (const uint8_t* p = find(c, kGoBuildInfo))
      go = go_buildinfo_version(c.subspan(static_cast<size_t>(p - c.data())), &elf);
  }
  if (go.empty() && go_sections) {
    if (auto v = elf.symbol_value("runtime.buildVersion")) go = go_string_at(elf, *v, 8);
  }
  if (!go.empty() || go_sections) {
    f.go = true;
    rt.go_version = go.empty() ? "go (no build info)" : go;
    if (go.rfind("go", 0) == 0)
      f.go_version = vsyscall::parse_version(std::string_view(go).substr(2));
  }
  return rt;
}

}  // namespace scan
