#include "vsyscall/call_site.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "vsyscall/page.h"
#include "vsyscall/x86_decoder.h"

namespace vsyscall {
namespace {

constexpr size_t kMaxInsn = 15;
// How far a tail call is looked for: hops through PLT-style jumps, instructions into the
// function.
constexpr int kMaxHops = 3;
constexpr int kMaxFunctionInsns = 32;

// One decoded instruction, reduced to what the forms need.
struct Insn {
  uint64_t addr = 0;
  size_t size = 0;
  unsigned id = X86_INS_INVALID;
  std::string text;
  // The first two operands.
  uint8_t nops = 0;
  cs_x86_op ops[2]{};
  uint64_t end() const { return addr + size; }
  bool is(unsigned i) const { return id == i; }
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
    Insn in;
    in.addr = addr;
    in.size = d->size;
    in.id = d->id;
    in.text = d->text;
    in.nops = d->x86.op_count > 2 ? 2 : d->x86.op_count;
    for (uint8_t i = 0; i < in.nops; ++i) in.ops[i] = d->x86.operands[i];
    return in;
  }

 private:
  X86Decoder& d_;
};

bool is_reg(const cs_x86_op& op) {
  return op.type == X86_OP_REG;
}
bool is_imm(const cs_x86_op& op) {
  return op.type == X86_OP_IMM;
}

// The address of a memory operand a call or load reads its 64-bit target from: RIP-relative or
// absolute, without index (the forms code that holds an address in a variable uses).
std::optional<uint64_t> word_address(const Insn& in, const cs_x86_op& op) {
  if (op.type != X86_OP_MEM || op.size != 8 || op.mem.index != X86_REG_INVALID ||
      op.mem.segment != X86_REG_INVALID)
    return std::nullopt;
  if (op.mem.base == X86_REG_RIP) return in.end() + static_cast<uint64_t>(op.mem.disp);
  if (op.mem.base == X86_REG_INVALID) return static_cast<uint64_t>(op.mem.disp);
  return std::nullopt;
}

std::optional<uint64_t> read_word(Memory& mem, uint64_t addr) {
  uint64_t v = 0;
  if (!mem.read(addr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), 8))) return std::nullopt;
  return v;
}

// The field of `load` (`mov $E,%reg`, `movabs`, or `mov mem,%reg` whose word is E) if it puts
// `entry` into `reg`.
std::optional<CallSite> loaded_entry(Memory& mem, const Insn& load, unsigned reg, uint64_t entry) {
  if (!(load.is(X86_INS_MOV) || load.is(X86_INS_MOVABS)) || load.nops != 2 || !is_reg(load.ops[0]) ||
      load.ops[0].reg != reg)
    return std::nullopt;
  const cs_x86_op& src = load.ops[1];
  CallSite s;
  s.insn_addr = load.addr;
  if (is_imm(src)) {
    if (static_cast<uint64_t>(src.imm) != entry) return std::nullopt;
    // The immediate is the instruction's last bytes: 4 sign-extended, or 8 (movabs).
    if (load.size == 10) {
      s.field = CallSite::Field::kImm64;
      s.field_addr = load.end() - 8;
    } else {
      s.field = CallSite::Field::kImm32;
      s.field_addr = load.end() - 4;
    }
    return s;
  }
  if (auto w = word_address(load, src)) {
    if (read_word(mem, *w) != entry) return std::nullopt;
    s.field = CallSite::Field::kWord;
    s.field_addr = *w;
    return s;
  }
  return std::nullopt;
}

// A call or jmp `branch` whose target is `entry`: its own field (rel32, a word it reads), or
// for `call/jmp *%reg` the load right before it (at `before`, the instruction ending at
// branch.addr, if known).
std::optional<CallSite> branch_to_entry(Memory& mem, const Insn& branch, const std::optional<Insn>& before,
                                        uint64_t entry) {
  if (branch.nops != 1) return std::nullopt;
  const cs_x86_op& op = branch.ops[0];
  std::optional<CallSite> s;
  if (is_imm(op)) {
    if (static_cast<uint64_t>(op.imm) != entry) return std::nullopt;
    s.emplace();
    s->field = CallSite::Field::kRel32;
    s->field_addr = branch.end() - 4;
    s->rel_base = branch.end();
    s->insn_addr = branch.addr;
    s->form = branch.text;
  } else if (is_reg(op)) {
    if (!before || before->end() != branch.addr) return std::nullopt;
    s = loaded_entry(mem, *before, op.reg, entry);
    if (s) s->form = before->text + "; " + branch.text;
  } else if (auto w = word_address(branch, op)) {
    if (read_word(mem, *w) != entry) return std::nullopt;
    s.emplace();
    s->field = CallSite::Field::kWord;
    s->field_addr = *w;
    s->insn_addr = branch.addr;
    s->form = branch.text;
  }
  return s;
}

// The instruction of exactly `len` bytes that ends at `end`, if there is one.
std::optional<Insn> ending_at(Decoder& d, Memory& mem, uint64_t end, size_t len) {
  std::array<uint8_t, kMaxInsn> b{};
  if (!mem.read(end - len, std::span<uint8_t>(b.data(), len))) return std::nullopt;
  auto in = d.decode(std::span<const uint8_t>(b.data(), len), end - len);
  if (!in || in->size != len) return std::nullopt;
  return in;
}

// Where a direct or memory-indirect call or jmp goes, if it is known without running.
std::optional<uint64_t> static_target(Memory& mem, const Insn& branch) {
  if (branch.nops != 1) return std::nullopt;
  const cs_x86_op& op = branch.ops[0];
  if (is_imm(op)) return static_cast<uint64_t>(op.imm);
  if (auto w = word_address(branch, op)) return read_word(mem, *w);
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
    if (call->nops == 1 && is_reg(call->ops[0])) {
      // The load right before: `mov $E,%reg` (7), `mov abs32,%reg` (8), `movabs` (10),
      // `mov disp(%rip),%reg` (7).
      for (size_t ll : {7u, 8u, 10u}) {
        load = ending_at(d, mem, call->addr, ll);
        if (load && loaded_entry(mem, *load, call->ops[0].reg, entry_addr)) break;
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
