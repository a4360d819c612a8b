// Matching a run's sites against the static scan of the same file: file offsets become
// virtual addresses through the PT_LOAD headers, then are looked up in the scanner's findings.
#include "scan/site_check.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "scan/elf_image.h"
#include "vsyscall/static_scan.h"

namespace scan {
namespace {

// The longest call instruction the scanner reports: `call *disp32(%rip)` with a prefix.
constexpr uint64_t kLongestCall = 7;
// How far into a function its tail call to the page may lie (glibc's old time() wrapper: a
// few instructions).
constexpr uint64_t kTailCallReach = 256;

struct Load {
  uint64_t offset, vaddr, filesz;
};

std::vector<Load> loads_of(std::span<const uint8_t> file) {
  std::vector<Load> out;
  Elf64_Ehdr eh;
  if (file.size() < sizeof eh) return out;
  std::memcpy(&eh, file.data(), sizeof eh);
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) return out;
  for (uint64_t i = 0; i < eh.e_phnum; ++i) {
    const uint64_t at = eh.e_phoff + i * sizeof(Elf64_Phdr);
    if (at > file.size() || file.size() - at < sizeof(Elf64_Phdr)) break;
    Elf64_Phdr ph;
    std::memcpy(&ph, file.data() + at, sizeof ph);
    if (ph.p_type == PT_LOAD) out.push_back({ph.p_offset, ph.p_vaddr, ph.p_filesz});
  }
  return out;
}

std::optional<uint64_t> vaddr_of(const std::vector<Load>& loads, uint64_t offset) {
  for (const Load& l : loads)
    if (offset >= l.offset && offset - l.offset <= l.filesz) return l.vaddr + (offset - l.offset);
  return std::nullopt;
}

}  // namespace

std::optional<SiteCheck> check_sites(const std::string& path, const SeenSites& seen) {
  MappedFile mapped;
  std::string error;
  if (map_elf(path, &mapped, &error) != OpenResult::kElf) return std::nullopt;
  const ElfImage elf(mapped.bytes());
  const vsyscall::Findings f = vsyscall::scan_image(elf.image_view());
  const std::vector<Load> loads = loads_of(mapped.bytes());
  SiteCheck out;
  for (uint64_t off : seen.call_returns) {
    const auto ret = vaddr_of(loads, off);
    if (!ret) return std::nullopt;
    bool found = std::any_of(f.calls.begin(), f.calls.end(), [&](const auto& c) {
      return !c.jump && c.address < *ret && *ret - c.address <= kLongestCall;
    });
    // A tail call (`jmp *%rax` in a function reached by `call rel32`) returns past the call
    // of that function: look for the scanner's jump a little way into it.
    const auto before = elf.at_vaddr(*ret - 5, 5);
    if (!found && before.size() == 5 && before[0] == 0xe8) {
      int32_t rel;
      std::memcpy(&rel, before.data() + 1, sizeof rel);
      const uint64_t fn = *ret + static_cast<uint64_t>(static_cast<int64_t>(rel));
      found = std::any_of(f.calls.begin(), f.calls.end(), [&](const auto& c) {
        return c.jump && c.address >= fn && c.address - fn < kTailCallReach;
      });
    }
    out.calls_found.push_back(found);
  }
  for (uint64_t off : seen.reads) {
    const auto at = vaddr_of(loads, off);
    if (!at) return std::nullopt;
    out.reads_found.push_back(std::any_of(f.reads.begin(), f.reads.end(),
                                          [&](const auto& r) { return r.address == *at; }));
  }
  return out;
}

}  // namespace scan
