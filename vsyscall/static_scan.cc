// The static scanner: byte prefilter, windowed disassembly, call-sequence pairing, verdict.
#include "vsyscall/static_scan.h"

#include <capstone/capstone.h>
#include <emmintrin.h>

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

#include "vsyscall/page.h"
#include "vsyscall/x86_forms.h"

namespace vsyscall {
namespace {

// How far back from a candidate's immediate to start decoding: x86 re-synchronises within a
// few instructions, so a linear decode from here meets the real instruction boundary.
constexpr size_t kSyncBytes = 48;
// How many instructions after `mov $page,%reg` we look for the `call *%reg`.
constexpr int kPairWindow = 12;
// The longest x86 instruction.
constexpr size_t kMaxInsn = 15;

uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

// A Capstone handle in Intel syntax with details (operand order as x86_forms expects) and
// one reusable instruction.
class Disassembler {
 public:
  Disassembler() {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK) {
      handle_ = 0;
      return;
    }
    cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
    insn_ = cs_malloc(handle_);
    // A second handle, only to print instructions in AT&T syntax like the call sequences
    // (Capstone 4 reverses the detail operands in AT&T mode, so classification stays Intel).
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &att_) == CS_ERR_OK) {
      cs_option(att_, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    } else {
      att_ = 0;
    }
  }
  ~Disassembler() {
    if (insn_ != nullptr) cs_free(insn_, 1);
    if (handle_ != 0) cs_close(&handle_);
    if (att_ != 0) cs_close(&att_);
  }
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  bool ok() const { return insn_ != nullptr; }
  // Decodes the instruction at *offset of `r` into insn(); advances *offset past it.
  bool next(const Region& r, size_t* offset) {
    const uint8_t* p = r.bytes.data() + *offset;
    size_t n = r.bytes.size() - *offset;
    uint64_t a = r.vaddr + *offset;
    if (!cs_disasm_iter(handle_, &p, &n, &a, insn_)) return false;
    *offset += insn_->size;
    return true;
  }
  const cs_insn& insn() const { return *insn_; }
  std::string reg(x86_reg r) const {
    const char* n = cs_reg_name(handle_, r);
    return n != nullptr ? n : "?";
  }
  // The instruction last decoded, in AT&T syntax (Intel if that handle is missing).
  std::string text() const {
    const cs_insn* shown = insn_;
    cs_insn* att = nullptr;
    if (att_ != 0 && cs_disasm(att_, insn_->bytes, insn_->size, insn_->address, 1, &att) == 1)
      shown = att;
    std::string t = shown->mnemonic;
    if (shown->op_str[0] != '\0') t += std::string(" ") + shown->op_str;
    if (att != nullptr) cs_free(att, 1);
    return t;
  }

 private:
  csh handle_ = 0;
  csh att_ = 0;
  cs_insn* insn_ = nullptr;
};

Disassembler& disassembler() {
  thread_local Disassembler d;
  return d;
}

// Position k of `r` is a candidate (see candidates()): adds the offset to examine.
void check_position(const Region& r, size_t k, std::vector<size_t>* out) {
  const uint8_t* b = r.bytes.data();
  const size_t n = r.bytes.size();
  if (k + 4 <= n && b[k + 2] == 0x60 && b[k + 3] == 0xff && b[k + 1] <= 0x0f) out->push_back(k);
  if (k + 5 <= n && (b[k] == 0xe8 || b[k] == 0xe9)) {
    const uint64_t next = r.vaddr + k + 5;
    if (in_page(next + static_cast<uint64_t>(static_cast<int64_t>(load_i32(b + k + 1)))))
      out->push_back(k + 1);
  }
}

// Offsets in `r` where an instruction may carry a page address: the first byte of a
// sign-extended 32-bit field 0xff600XXX (imm32, disp32, or the low half of an imm64/moffs64),
// and the opcode of a rel32 call/jmp (e8/e9) whose target is in the page. (Conditional jumps
// into the page are not looked for.) 16 positions at a time with SSE2; this loop is where a
// scan of a whole tree spends its time.
std::vector<size_t> candidates(const Region& r) {
  std::vector<size_t> out;
  const uint8_t* b = r.bytes.data();
  const size_t n = r.bytes.size();
  if (n < 4) return out;
  // A rel32 reaches the page only if its top 16 bits are those of (page - next rip): over a
  // chunk of 56 KiB of positions (plus the last block's 15 and the page's 4 KiB of targets,
  // under 64 KiB in all) those take at most two consecutive values. A multiple of 16.
  constexpr size_t kChunk = (1 << 16) - 2 * kPageSize;
  const __m128i k60 = _mm_set1_epi8(0x60);
  const __m128i kff = _mm_set1_epi8(static_cast<char>(0xff));
  const __m128i kf0 = _mm_set1_epi8(static_cast<char>(0xf0));
  const __m128i kzero = _mm_setzero_si128();
  const __m128i ke8 = _mm_set1_epi8(static_cast<char>(0xe8));
  const __m128i ke9 = _mm_set1_epi8(static_cast<char>(0xe9));
  // Blocks of 16 positions whose loads (up to 20 bytes ahead) stay inside the region.
  const size_t last = n >= 20 ? n - 20 : 0;
  for (size_t chunk = 0; n >= 20 && chunk <= last; chunk += kChunk) {
    const size_t chunk_end = std::min(last + 1, chunk + kChunk);
    // next rip = vaddr + k + 5 for the positions k in [chunk, chunk_end + 15] the blocks
    // starting below chunk_end cover; rel32 = target - next rip.
    const uint32_t rel_hi = static_cast<uint32_t>(kPageEnd - 1 - (r.vaddr + chunk + 5)) >> 16;
    const uint32_t rel_lo = static_cast<uint32_t>(kPageBase - (r.vaddr + chunk_end + 15 + 5)) >> 16;
    const __m128i h1 = _mm_set1_epi8(static_cast<char>(rel_hi >> 8));
    const __m128i m1 = _mm_set1_epi8(static_cast<char>(rel_hi & 0xff));
    const __m128i h2 = _mm_set1_epi8(static_cast<char>(rel_lo >> 8));
    const __m128i m2 = _mm_set1_epi8(static_cast<char>(rel_lo & 0xff));
    for (size_t i = chunk; i < chunk_end; i += 16) {
      auto load = [&](size_t k) {
        return _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + k));
      };
      const __m128i b0 = load(0), b1 = load(1), b2 = load(2), b3 = load(3), b4 = load(4);
      const __m128i imm =
          _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(b2, k60), _mm_cmpeq_epi8(b3, kff)),
                        _mm_cmpeq_epi8(_mm_and_si128(b1, kf0), kzero));
      const __m128i op = _mm_or_si128(_mm_cmpeq_epi8(b0, ke8), _mm_cmpeq_epi8(b0, ke9));
      const __m128i top =
          _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(b4, h1), _mm_cmpeq_epi8(b3, m1)),
                       _mm_and_si128(_mm_cmpeq_epi8(b4, h2), _mm_cmpeq_epi8(b3, m2)));
      unsigned mask =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(imm, _mm_and_si128(op, top))));
      while (mask != 0) {
        const size_t k = i + static_cast<size_t>(__builtin_ctz(mask));
        mask &= mask - 1;
        check_position(r, k, &out);
      }
    }
  }
  // The last bytes, which the 16-wide loads above do not cover.
  const size_t tail = n >= 20 ? ((n - 20) / 16 + 1) * 16 : 0;
  for (size_t k = std::min(tail, n); k + 4 <= n; ++k) check_position(r, k, &out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

class Scanner {
 public:
  explicit Scanner(const ImageView& image) : image_(image), dis_(disassembler()) {}

  Findings run() {
    if (!dis_.ok()) return {};
    find_data_words();
    for (const Region& r : image_.code) {
      for (size_t field : candidates(r)) examine_candidate(r, field);
    }
    if (!words_.empty()) {
      for (const Region& r : image_.code) sweep(r);
    }
    return std::move(out_);
  }

 private:
  void find_data_words() {
    for (const Region& r : image_.data) {
      const uint8_t* b = r.bytes.data();
      const size_t n = r.bytes.size();
      for (size_t off = (8 - r.vaddr % 8) % 8; off + 8 <= n; off += 8) {
        const uint64_t v = load_u64(b + off);
        if ((v & ~(kPageSize - 1)) != kPageBase || !entry_at(v)) continue;
        out_.words.push_back({r.vaddr + off, v});
        words_[r.vaddr + off] = v;
      }
    }
  }

  // Finds the instruction that holds the candidate field at `field`: first by a linear decode
  // from a little before it, which is where the boundaries of real code lie; when that lands
  // on an instruction with nothing to do with the page (it can lose step after padding or
  // data), by trying each start that could hold the field, nearest the 15-byte limit first.
  void examine_candidate(const Region& r, size_t field) {
    size_t off = field > kSyncBytes ? field - kSyncBytes : 0;
    while (off <= field) {
      const size_t start = off;
      if (!dis_.next(r, &off)) {
        off = start + 1;
        continue;
      }
      if (off > field) {
        if (page_related(classify_insn(dis_.insn()))) {
          if (seen_.insert(r.vaddr + start).second) examine_insn(r, off);
          return;
        }
        // The whole 4-byte field inside one unrelated instruction: the decode is in step
        // and the bytes are an ordinary operand. One that ends inside the field is suspect.
        if (off >= field + 4) return;
        break;
      }
    }
    for (size_t start = field > kMaxInsn - 1 ? field - (kMaxInsn - 1) : 0; start <= field;
         ++start) {
      off = start;
      if (!dis_.next(r, &off) || off <= field) continue;
      if (!page_related(classify_insn(dis_.insn()))) continue;
      if (seen_.insert(r.vaddr + start).second) examine_insn(r, off);
      return;
    }
  }

  // A direct branch counts only to an entry: rel32 fields are arbitrary bytes, and a branch
  // elsewhere in the page would be a program that crashes in every mode.
  static bool page_related(const InsnForm& f) {
    if (f.kind == FormKind::kDirectCall || f.kind == FormKind::kDirectJump)
      return entry_at(f.address).has_value();
    return f.kind == FormKind::kPageImmediate || f.kind == FormKind::kPageRead;
  }

  // The instruction just decoded ends at `off` in `r`.
  void examine_insn(const Region& r, size_t off) {
    const cs_insn& insn = dis_.insn();
    const InsnForm f = classify_insn(insn);
    switch (f.kind) {
      case FormKind::kPageRead:
        out_.reads.push_back({insn.address, f.address, dis_.text()});
        break;
      case FormKind::kDirectCall:
      case FormKind::kDirectJump: {
        if (!page_related(f)) break;
        ScannedCall s;
        s.address = s.setup_address = insn.address;
        s.target = f.address;
        s.form = SiteForm::kDirect;
        s.jump = f.kind == FormKind::kDirectJump;
        s.sequence = std::string(s.jump ? "jmp " : "call ") + hex(f.address);
        out_.calls.push_back(std::move(s));
        break;
      }
      case FormKind::kPageImmediate: {
        const uint64_t at = insn.address;
        const std::string setup =
            std::string(f.imm64 ? "movabs $" : "mov $") + hex(f.address) + ",%" + dis_.reg(f.reg);
        follow_register(r, off, f.reg, at, f.address, SiteForm::kImmediate, setup);
        break;
      }
      default:
        break;
    }
  }

  // After a page address (or a data word holding one) was put in `reg` by the instruction at
  // `setup_at`, looks for `call/jmp *%reg` before reg changes or the straight line ends.
  void follow_register(const Region& r, size_t off, x86_reg reg, uint64_t setup_at, uint64_t target,
                       SiteForm form, const std::string& setup) {
    for (int i = 0; i < kPairWindow && off < r.bytes.size(); ++i) {
      if (!dis_.next(r, &off)) break;
      const cs_insn& insn = dis_.insn();
      const InsnForm f = classify_insn(insn);
      if ((f.kind == FormKind::kRegisterCall || f.kind == FormKind::kRegisterJump) &&
          f.reg == reg) {
        ScannedCall s;
        s.address = insn.address;
        s.target = target;
        s.form = form;
        s.jump = f.kind == FormKind::kRegisterJump;
        s.setup_address = setup_at;
        s.sequence = setup + (s.jump ? "; jmp *%" : "; call *%") + dis_.reg(reg);
        out_.calls.push_back(std::move(s));
        return;
      }
      if (ends_register_tracking(insn, reg)) break;
    }
    out_.refs.push_back({setup_at, target});
  }

  // Every instruction of `r`, for the loads and indirect branches through entry data words.
  void sweep(const Region& r) {
    size_t off = 0;
    while (off < r.bytes.size()) {
      const size_t start = off;
      if (!dis_.next(r, &off)) {
        off = start + 1;
        continue;
      }
      const cs_insn& insn = dis_.insn();
      const InsnForm f = classify_insn(insn);
      if (f.kind != FormKind::kMemoryCall && f.kind != FormKind::kMemoryJump &&
          f.kind != FormKind::kDataLoad)
        continue;
      const auto w = words_.find(f.address);
      if (w == words_.end()) continue;
      if (f.kind == FormKind::kDataLoad) {
        const std::string setup = "mov " + hex(f.address) + ",%" + dis_.reg(f.reg);
        // follow_register decodes ahead from a copy of off: the sweep resumes after the load.
        follow_register(r, off, f.reg, insn.address, w->second, SiteForm::kWordRegister, setup);
        continue;
      }
      ScannedCall s;
      s.address = insn.address;
      s.target = w->second;
      s.form = SiteForm::kWordMemory;
      s.jump = f.kind == FormKind::kMemoryJump;
      s.setup_address = f.address;
      s.sequence = std::string(s.jump ? "jmp *" : "call *") + hex(f.address);
      out_.calls.push_back(std::move(s));
    }
  }

  const ImageView& image_;
  Disassembler& dis_;
  Findings out_;
  std::set<uint64_t> seen_;
  std::unordered_map<uint64_t, uint64_t> words_;
};

}  // namespace

Findings scan_image(const ImageView& image) {
  return Scanner(image).run();
}

std::optional<Version> parse_version(std::string_view s) {
  Version v;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  auto r = std::from_chars(p, end, v.major);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') return std::nullopt;
  r = std::from_chars(r.ptr + 1, end, v.minor);
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kClean:
      return "clean";
    case Verdict::kNeedsVdso:
      return "no-vdso";
    case Verdict::kBreaksOnNone:
      return "breaks-none";
    case Verdict::kBreaksOnXonly:
      return "breaks-xonly";
  }
  return "?";
}

std::string_view verdict_text(Verdict v) {
  switch (v) {
    case Verdict::kClean:
      return "clean";
    case Verdict::kNeedsVdso:
      return "uses the vsyscall page only without a vDSO";
    case Verdict::kBreaksOnNone:
      return "breaks on vsyscall=none";
    case Verdict::kBreaksOnXonly:
      return "breaks on vsyscall=xonly (reads the page)";
  }
  return "?";
}

Assessment assess(Findings& f, const RuntimeFacts& facts) {
  // Go < 1.16 starts with vdsoGettimeofdaySym = 0xffffffffff600000 and overwrites it from
  // the vDSO; a Go binary without build info predates 1.13. glibc <= 2.14's IFUNC resolvers
  // (and its getcpu pointer) return the entry when the vDSO lookup fails.
  const bool old_go = facts.go && (!facts.go_version || *facts.go_version < Version{1, 16});
  const bool old_glibc = facts.is_glibc_itself && facts.glibc && *facts.glibc <= Version{2, 14};
  Assessment a;
  a.vdso_fallback = old_go || old_glibc;
  bool real_call = false;
  for (ScannedCall& s : f.calls) {
    s.fallback = old_go && (s.form == SiteForm::kWordMemory || s.form == SiteForm::kWordRegister);
    real_call = real_call || !s.fallback;
  }
  if (!f.reads.empty()) {
    a.verdict = Verdict::kBreaksOnXonly;
  } else if (real_call) {
    a.verdict = Verdict::kBreaksOnNone;
  } else if (!f.calls.empty() || !f.refs.empty() || !f.words.empty()) {
    a.verdict = a.vdso_fallback ? Verdict::kNeedsVdso : Verdict::kBreaksOnNone;
  }
  return a;
}

}  // namespace vsyscall
