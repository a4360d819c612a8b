// Address arithmetic, page/user/fault routing of reads, and the all-or-nothing commit.
#include "vsyscall/emulation_step.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "vsyscall/x86_registers.h"

namespace vsyscall {
namespace {

constexpr uint64_t kSmallPage = 0x1000;

constexpr uint64_t page_floor(uint64_t a) {
  return a & ~(kSmallPage - 1);
}

}  // namespace

EmulationStep::EmulationStep(const DecodedInsn& insn, const CpuState& state, Memory& mem,
                             ReadEmulation& result)
    : insn_(insn), before_(state), next_(state), mem_(mem), result_(result) {}

uint64_t EmulationStep::segment_base(unsigned seg) const {
  if (seg == X86_REG_FS) return before_.gpr.fs_base;
  if (seg == X86_REG_GS) return before_.gpr.gs_base;
  return 0;  // cs/ds/es/ss: base 0 in 64-bit mode
}

uint64_t EmulationStep::address_of(const x86_op_mem& m) const {
  uint64_t ea = static_cast<uint64_t>(m.disp);
  if (m.base == X86_REG_RIP || m.base == X86_REG_EIP) {
    ea += insn_.next_rip();
  } else if (m.base != X86_REG_INVALID) {
    if (auto slot = gpr_slot(m.base)) ea += read_gpr(before_.gpr, *slot);
  }
  if (m.index != X86_REG_INVALID) {
    if (auto slot = gpr_slot(m.index)) {
      ea += read_gpr(before_.gpr, *slot) * static_cast<uint64_t>(m.scale);
    }
  }
  if (insn_.x86.addr_size == 4) ea &= 0xffffffffULL;
  return ea + segment_base(m.segment);
}

bool EmulationStep::read_user(uint64_t addr, std::span<uint8_t> out) {
  // `out` lies inside one 4 KiB page. Mappings are page-granular, so if these bytes are
  // readable the whole page is: read it once. A Memory that is not page-granular still gets
  // the exact range as a fallback.
  const uint64_t page = page_floor(addr);
  auto it = user_pages_.find(page);
  if (it == user_pages_.end()) {
    std::vector<uint8_t> bytes(kSmallPage);
    if (!mem_.read(page, bytes)) return mem_.read(addr, out);
    it = user_pages_.emplace(page, std::move(bytes)).first;
  }
  std::memcpy(out.data(), it->second.data() + (addr - page), out.size());
  return true;
}

bool EmulationStep::read(uint64_t addr, std::span<uint8_t> out) {
  const auto& image = page_image();
  uint64_t done = 0;
  while (done < out.size()) {
    const uint64_t a = addr + done;
    const uint64_t left = out.size() - done;
    uint64_t n = 0;
    if (in_page(a)) {
      n = std::min(left, kPageEnd - a);
      std::memcpy(out.data() + done, image.data() + (a - kPageBase), n);
    } else if (a < kUserSpaceEnd) {
      // kUserSpaceEnd is page-aligned, so the piece never crosses it.
      n = std::min(left, page_floor(a) + kSmallPage - a);
      if (!read_user(a, out.subspan(done, n))) return fault(a);
    } else {
      return fault(a);  // the unmapped page after ours, the kernel, or non-canonical
    }
    done += n;
  }
  return true;
}

bool EmulationStep::read_uint(uint64_t addr, unsigned width, uint64_t& value) {
  uint8_t bytes[8] = {};
  if (!read(addr, std::span<uint8_t>(bytes, width))) return false;
  value = 0;
  for (unsigned i = 0; i < width; ++i) value |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  return true;
}

bool EmulationStep::write(uint64_t addr, std::vector<uint8_t> bytes, bool descending) {
  if (!user_range_ok(addr, bytes.size())) return fault(std::max(addr, kUserSpaceEnd));
  writes_.push_back(PendingWrite{addr, std::move(bytes), descending});
  return true;
}

void EmulationStep::write_vector(unsigned index, std::span<const uint8_t> bytes,
                                 VectorEncoding enc) {
  auto& reg = next_.vec.ymm[index];
  std::copy(bytes.begin(), bytes.end(), reg.begin());
  if (enc != VectorEncoding::kLegacy) {
    std::fill(reg.begin() + static_cast<std::ptrdiff_t>(bytes.size()), reg.end(), 0);
    zmm_upper_zeroed_ |= static_cast<uint16_t>(1u << index);
    if (next_.have_avx512) next_.avx512.zmm_hi256[index].fill(0);
  }
  vector_changed_ = true;
}

EmulationStep::Zmm EmulationStep::zmm(unsigned index) const {
  Zmm z{};
  if (index < 16) {
    std::copy(next_.vec.ymm[index].begin(), next_.vec.ymm[index].end(), z.begin());
    std::copy(next_.avx512.zmm_hi256[index].begin(), next_.avx512.zmm_hi256[index].end(),
              z.begin() + 32);
  } else {
    z = next_.avx512.hi16_zmm[index - 16];
  }
  return z;
}

void EmulationStep::write_zmm(unsigned index, const Zmm& value) {
  if (index < 16) {
    std::copy(value.begin(), value.begin() + 32, next_.vec.ymm[index].begin());
    std::copy(value.begin() + 32, value.end(), next_.avx512.zmm_hi256[index].begin());
  } else {
    next_.avx512.hi16_zmm[index - 16] = value;
  }
  vector_changed_ = true;
}

void EmulationStep::write_mask(unsigned index, uint64_t value) {
  next_.avx512.k[index] = value;
  vector_changed_ = true;
}

void EmulationStep::set_arith_flags(uint64_t flags) {
  next_.gpr.eflags = (next_.gpr.eflags & ~kArithFlags) | (flags & kArithFlags);
}

bool EmulationStep::unsupported(std::string reason) {
  result_.status = ReadEmulation::Status::kUnsupported;
  result_.reason = std::move(reason);
  return false;
}

bool EmulationStep::fault(uint64_t addr) {
  result_.status = ReadEmulation::Status::kFault;
  result_.fault_addr = addr;
  return false;
}

bool EmulationStep::commit(CpuState& state) {
  for (const PendingWrite& w : writes_) {
    // One Memory call per 4 KiB piece, in the order the CPU stores, so a fault part-way
    // leaves exactly the pieces before it written and names the first byte it could not.
    std::vector<std::pair<uint64_t, uint64_t>> pieces;  // (offset, length)
    for (uint64_t off = 0; off < w.bytes.size();) {
      const uint64_t a = w.addr + off;
      const uint64_t n = std::min<uint64_t>(w.bytes.size() - off, page_floor(a) + kSmallPage - a);
      pieces.emplace_back(off, n);
      off += n;
    }
    if (w.descending) std::reverse(pieces.begin(), pieces.end());
    for (const auto& [off, n] : pieces) {
      const std::span<const uint8_t> piece(w.bytes.data() + off, n);
      if (!mem_.write(w.addr + off, piece)) return fault(w.addr + off);
    }
  }
  next_.gpr.rip = insn_.next_rip();
  state = next_;
  result_.status = ReadEmulation::Status::kDone;
  result_.vector_changed = vector_changed_;
  result_.zmm_upper_zeroed = zmm_upper_zeroed_;
  return true;
}

}  // namespace vsyscall
