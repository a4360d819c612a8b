#include "vsyscall/call_site.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "vsyscall/page.h"
#include "vsyscall/x86_decoder.h"
#include "vsyscall/x86_forms.h"

namespace vsyscall {
namespace {

constexpr size_t kMaxInsn = 15;
// How far a tail call is looked for: hops through PLT-style jumps, instructions into the
// function.
constexpr int kMaxHops = 3;
constexpr int kMaxFunctionInsns = 32;

// One decoded instruction and its form (vsyscall/x86_forms.h, the classifier the static
// scanner uses too).
struct Insn {
  DecodedInsn d;
  InsnForm f;
  uint64_t addr() const { return d.address; }
  uint64_t end() const { return d.next_rip(); }
  bool is(unsigned id) const { return d.id == id; }
};

// Reads and decodes through the thread's one Capstone handle (vsyscall/x86_decoder.h).
class Decoder {
 public:
  Decoder() : d_(thread_decoder()) {}
  bool ok() const { return d_.ok(); }

  // The instruction at addr, read from the program.
  std::optional<Insn> at(Memory& mem, uint64_t addr) {
    std::array<uint8_t, kMaxInsn> b{};
    size_t n = kMaxInsn;
    while (n > 0 && !mem.read(addr, std::span<uint8_t>(b.data(), n))) --n;
    if (n == 0) return std::nullopt;
    return decode(std::span<const uint8_t>(b.data(), n), addr);
  }

  std::optional<Insn> decode(std::span<const uint8_t> code, uint64_t addr) {
    auto d = d_.decode(code, addr);
    if (!d) return std::nullopt;
    const InsnForm f = classify_insn(*d);
    return Insn{std::move(*d), f};
  }

 private:
  X86Decoder& d_;
};

std::optional<uint64_t> read_word(Memory& mem, uint64_t addr) {
  uint64_t v = 0;
  if (!mem.read(addr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 8))) return std::nullopt;
  return v;
}

// The field of `load` (`mov $E,%reg`, `movabs`, or `mov mem,%reg` whose word is E) if it puts
// `entry` into `reg`.
std::optional<CallSite> loaded_entry(Memory& mem, const Insn& load, x86_reg reg, uint64_t entry) {
  CallSite s;
  s.insn_addr = load.addr();
  if (load.f.kind == FormKind::kPageImmediate && load.f.reg == reg && load.f.address == entry) {
    // The immediate (or lea's disp32) is the instruction's last bytes: 8 for movabs, else 4,
    // sign-extended.
    s.field = load.f.imm64 ? CallSite::Field::kImm64 : CallSite::Field::kImm32;
    s.field_addr = load.end() - (load.f.imm64 ? 8 : 4);
    return s;
  }
  if (load.f.kind == FormKind::kDataLoad && load.f.reg == reg &&
      read_word(mem, load.f.address) == entry) {
    s.field = CallSite::Field::kWord;
    s.field_addr = load.f.address;
    return s;
  }
  return std::nullopt;
}

// A call or jmp `branch` whose target is `entry`: its own field (rel32, a word it reads), or
// for `call/jmp *%reg` the load right before it (`before`, the instruction ending at
// branch.addr(), if known).
std::optional<CallSite> branch_to_entry(Memory& mem, const Insn& branch,
                                        const std::optional<Insn>& before, uint64_t entry) {
  std::optional<CallSite> s;
  switch (branch.f.kind) {
    case FormKind::kDirectCall:
    case FormKind::kDirectJump:
      // rel32 (a rel8 cannot reach the page from user space): the last 4 bytes.
      if (branch.f.address != entry || branch.d.size < 5) return std::nullopt;
      s.emplace();
      s->field = CallSite::Field::kRel32;
      s->field_addr = branch.end() - 4;
      s->rel_base = branch.end();
      s->insn_addr = branch.addr();
      s->form = branch.d.text;
      return s;
    case FormKind::kRegisterCall:
    case FormKind::kRegisterJump:
      if (!before || before->end() != branch.addr()) return std::nullopt;
      s = loaded_entry(mem, *before, branch.f.reg, entry);
      if (s) s->form = before->d.text + "; " + branch.d.text;
      return s;
    case FormKind::kMemoryCall:
    case FormKind::kMemoryJump:
      if (read_word(mem, branch.f.address) != entry) return std::nullopt;
      s.emplace();
      s->field = CallSite::Field::kWord;
      s->field_addr = branch.f.address;
      s->insn_addr = branch.addr();
      s->form = branch.d.text;
      return s;
    default:
      return std::nullopt;
  }
}

// The instruction of exactly `len` bytes that ends at `end`, if there is one.
std::optional<Insn> ending_at(Decoder& d, Memory& mem, uint64_t end, size_t len) {
  std::array<uint8_t, kMaxInsn> b{};
  if (!mem.read(end - len, std::span<uint8_t>(b.data(), len))) return std::nullopt;
  auto in = d.decode(std::span<const uint8_t>(b.data(), len), end - len);
  if (!in || in->d.size != len) return std::nullopt;
  return in;
}

// Where a direct or memory-indirect call or jmp outside the page goes, if it is known without
// running.
std::optional<uint64_t> static_target(Memory& mem, const Insn& branch) {
  if (branch.f.kind == FormKind::kMemoryCall || branch.f.kind == FormKind::kMemoryJump)
    return read_word(mem, branch.f.address);
  const auto ops = branch.d.operands();
  if (ops.size() == 1 && ops[0].type == X86_OP_IMM) return static_cast<uint64_t>(ops[0].imm);
  return std::nullopt;
}

// A tail jump to `entry` in the function at `fn` (after PLT-style hops).
std::optional<CallSite> tail_call_in(Decoder& d, Memory& mem, uint64_t fn, uint64_t entry) {
  for (int hop = 0; hop <= kMaxHops; ++hop) {
    std::optional<Insn> prev;
    uint64_t pc = fn;
    bool hopped = false;
    for (int i = 0; i < kMaxFunctionInsns; ++i) {
      auto in = d.at(mem, pc);
      if (!in) return std::nullopt;
      if (in->is(X86_INS_JMP)) {
        if (auto s = branch_to_entry(mem, *in, prev, entry)) {
          s->tail_call = true;
          return s;
        }
        // The function's first instruction jumps on (a PLT entry, an IFUNC'd alias): follow.
        auto next = i == 0 ? static_target(mem, *in) : std::nullopt;
        if (!next || in_page(*next)) return std::nullopt;
        fn = *next;
        hopped = true;
        break;
      }
      if (in->is(X86_INS_RET) || in->is(X86_INS_UD2) || in->is(X86_INS_INT3) || in->is(X86_INS_HLT))
        return std::nullopt;
      prev = in;
      pc = in->end();
    }
    if (!hopped) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<CallSite> find_call_site(Memory& mem, uint64_t return_address, uint64_t entry_addr,
                                       std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<CallSite> {
    if (why) *why = reason;
    return std::nullopt;
  };
  Decoder d;
  if (!d.ok()) return fail("Capstone cannot decode");
  const char* reason = "no call form recognised before the return address";
  // The call that pushed the return address: `call *%reg` (2-3 bytes), `call rel32` (5),
  // `call *disp(%rip)` (6), `call *abs32` (7). Shorter first: a longer match would have to
  // hold the shorter call in its operand bytes.
  for (size_t len : {2u, 3u, 5u, 6u, 7u}) {
    auto call = ending_at(d, mem, return_address, len);
    if (!call || !call->is(X86_INS_CALL)) continue;
    std::optional<Insn> load;
    if (call->f.kind == FormKind::kRegisterCall) {
      // The load right before: `mov $E,%reg` (7), `mov abs32,%reg` (8), `movabs` (10),
      // `mov disp(%rip),%reg` (7).
      for (size_t ll : {7u, 8u, 10u}) {
        load = ending_at(d, mem, call->addr(), ll);
        if (load && loaded_entry(mem, *load, call->f.reg, entry_addr)) break;
        load.reset();
      }
      if (!load) {
        // `41 ff d4` (call r12) ends in `ff d4` (call rsp): try the longer encodings too.
        reason = "the register's value is not loaded right before the call";
        continue;
      }
    }
    if (auto s = branch_to_entry(mem, *call, load, entry_addr)) return s;
    if (load) continue;
    // The call went to a function: the page is reached by a tail jump in it.
    if (auto fn = static_target(mem, *call); fn && !in_page(*fn)) {
      if (auto s = tail_call_in(d, mem, *fn, entry_addr)) {
        s->form = "tail call: " + s->form;
        return s;
      }
      return fail("no jump to the entry found in the called function");
    }
  }
  return fail(reason);
}

std::optional<std::vector<uint8_t>> call_site_field(const CallSite& site, uint64_t target) {
  std::vector<uint8_t> b(site.field_size());
  switch (site.field) {
    case CallSite::Field::kImm32: {
      // Sign-extended: only targets below 2 GiB (or in the top 2 GiB) fit.
      const auto v = static_cast<int64_t>(target);
      if (v < INT32_MIN || v > INT32_MAX) return std::nullopt;
      const auto w = static_cast<int32_t>(v);
      std::memcpy(b.data(), &w, 4);
      return b;
    }
    case CallSite::Field::kRel32: {
      const auto v = static_cast<int64_t>(target - site.rel_base);
      if (v < INT32_MIN || v > INT32_MAX) return std::nullopt;
      const auto w = static_cast<int32_t>(v);
      std::memcpy(b.data(), &w, 4);
      return b;
    }
    case CallSite::Field::kImm64:
    case CallSite::Field::kWord:
      std::memcpy(b.data(), &target, 8);
      return b;
  }
  return std::nullopt;
}

}  // namespace vsyscall
