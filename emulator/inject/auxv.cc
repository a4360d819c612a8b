// Walks argc/argv/envp/auxv as laid out by the kernel's create_elf_tables().
#include "emulator/inject/auxv.h"

#include <elf.h>

#include <cstring>

#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"

namespace emulator {
namespace {

bool word_at(std::span<const uint8_t> s, size_t off, uint64_t& out) {
  if (off > s.size() || s.size() - off < 8) return false;
  std::memcpy(&out, s.data() + off, 8);
  return true;
}

}  // namespace

std::optional<std::vector<AuxvEntry>> parse_initial_stack(std::span<const uint8_t> stack) {
  uint64_t argc = 0;
  if (!word_at(stack, 0, argc) || argc > stack.size() / 8) return std::nullopt;
  size_t off = 8 + argc * 8;
  uint64_t w = 0;
  if (!word_at(stack, off, w) || w != 0) return std::nullopt;  // argv NULL terminator
  off += 8;
  while (true) {  // envp
    if (!word_at(stack, off, w)) return std::nullopt;
    off += 8;
    if (w == 0) break;
  }
  std::vector<AuxvEntry> out;
  while (true) {
    uint64_t type = 0, value = 0;
    if (!word_at(stack, off, type) || !word_at(stack, off + 8, value)) return std::nullopt;
    out.push_back({type, value, off});
    off += 16;
    if (type == AT_NULL) return out;
  }
}

std::optional<uint64_t> rewrite_sysinfo_ehdr(pid_t tid, std::optional<uint64_t> value) {
  auto regs = get_regs(tid);
  if (!regs) return std::nullopt;
  ProcessMemory mem(tid);
  // argc, argv, envp and auxv usually fit in the first few KiB above rsp: read that much
  // first (zeroing and copying 256 KiB cost ~15 us per exec) and grow only if AT_NULL is not
  // in it yet. 256 KiB covers pointer arrays of any sane size; read_partial stops at the top
  // of the stack mapping.
  std::optional<std::vector<AuxvEntry>> auxv;
  for (size_t want = 8 * 1024; !auxv && want <= 256 * 1024; want *= 2) {
    std::vector<uint8_t> buf(want);
    const size_t n = mem.read_partial(regs->rsp, buf);
    buf.resize(n);
    auxv = parse_initial_stack(buf);
    if (n < want) break;  // the whole stack was read
  }
  if (!auxv) return std::nullopt;
  for (const AuxvEntry& e : *auxv) {
    if (e.type != AT_SYSINFO_EHDR) continue;
    uint64_t pair[2] = {value ? uint64_t{AT_SYSINFO_EHDR} : uint64_t{AT_IGNORE}, value.value_or(0)};
    uint8_t bytes[16];
    std::memcpy(bytes, pair, 16);
    if (!mem.write(regs->rsp + e.offset, bytes)) return std::nullopt;
    return e.value;
  }
  return std::nullopt;
}

}  // namespace emulator
