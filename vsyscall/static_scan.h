// Finds vsyscall call sites, page reads and page addresses in a program's bytes without
// running it, and turns what it found into a verdict. Pure: no files, no ptrace.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vsyscall {

// A run of a program's bytes at the virtual address it is loaded at.
struct Region {
  uint64_t vaddr = 0;
  std::span<const uint8_t> bytes;
};

struct ImageView {
  std::vector<Region> code;  // executable sections: disassembled where a candidate shows
  std::vector<Region> data;  // other loaded sections with contents: searched for entry words
};

enum class SiteForm : uint8_t {
  kImmediate,     // mov/movabs $page,%reg ... call/jmp *%reg
  kDirect,        // call/jmp page (rel32)
  kWordMemory,    // call/jmp *word, where the data word holds a page address
  kWordRegister,  // mov word,%reg ... call/jmp *%reg
};

struct ScannedCall {
  uint64_t address = 0;  // of the call or jmp
  uint64_t target = 0;   // the page address it goes to
  SiteForm form = SiteForm::kImmediate;
  bool jump = false;           // a tail call: jmp rather than call
  uint64_t setup_address = 0;  // the mov, or the data word (kWord*); = address for kDirect
  std::string sequence;        // "mov $0xffffffffff600000,%rax; call *%rax"
  bool fallback = false;       // set by assess(): the runtime's no-vDSO fallback
};

// A memory operand at a page address: faults on vsyscall=xonly and none.
struct PageRead {
  uint64_t address = 0;
  uint64_t target = 0;
  std::string text;  // the instruction as Capstone prints it
};

// A page address put in a register (or a data word loaded) that was not followed to a call:
// a pointer handed on (an IFUNC resolver's return value, an argument, a store).
struct PageRef {
  uint64_t address = 0;
  uint64_t target = 0;
};

// An 8-byte aligned data word holding an entry address.
struct DataWord {
  uint64_t address = 0;
  uint64_t value = 0;
};

struct Findings {
  std::vector<ScannedCall> calls;
  std::vector<PageRead> reads;
  std::vector<PageRef> refs;
  std::vector<DataWord> words;

  bool empty() const { return calls.empty() && reads.empty() && refs.empty() && words.empty(); }
};

// Candidates are found by bytes first (the imm32/disp32 high half `0X 60 ff`, and rel32
// branches whose target is in the page); only the bytes around them are disassembled, unless
// data words hold an entry, in which case the code is swept to find who loads them.
Findings scan_image(const ImageView& image);

struct Version {
  int major = 0;
  int minor = 0;
  auto operator<=>(const Version&) const = default;
};
std::optional<Version> parse_version(std::string_view s);  // "2.14", "1.15.3" -> {1,15}

// What the file was built with, as far as it matters for the verdict.
struct RuntimeFacts {
  std::optional<Version> glibc;  // from the static banner or the GLIBC_ version needs
  bool is_glibc_itself = false;  // libc.so.6 (or a static banner): its own code
  bool go = false;
  std::optional<Version> go_version;  // nullopt: a Go binary too old to carry build info
};

enum class Verdict : uint8_t { kClean, kNeedsVdso, kBreaksOnNone, kBreaksOnXonly };
std::string_view verdict_name(Verdict v);  // "clean", "no-vdso", "breaks-none", "breaks-xonly"
std::string_view verdict_text(Verdict v);  // for people

struct Assessment {
  Verdict verdict = Verdict::kClean;
  // The runtime goes to the page when the vDSO is missing (Go < 1.16's vdsoGettimeofdaySym,
  // glibc <= 2.14's time/gettimeofday IFUNCs and getcpu pointer).
  bool vdso_fallback = false;
};

// Marks the call sites that are the runtime's no-vDSO fallback and picks the verdict:
// a read -> breaks on xonly; a call site that is not a fallback -> breaks on none;
// only fallbacks or page addresses handed on -> uses the page only without a vDSO.
Assessment assess(Findings& findings, const RuntimeFacts& facts);

}  // namespace vsyscall
