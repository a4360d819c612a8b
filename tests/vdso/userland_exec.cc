// A test-only userland exec that rewrites AT_SYSINFO_EHDR (see userland_exec.h).
#include "tests/vdso/userland_exec.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

extern char** environ;

namespace vdso_test {
namespace {

constexpr uint64_t kPage = 4096;
constexpr size_t kMaxPhdrs = 32;
constexpr size_t kStackSize = 1 << 20;

std::nullopt_t fail(std::string* why, const std::string& what) {
  *why = what;
  return std::nullopt;
}

uint64_t page_down(uint64_t v) {
  return v & ~(kPage - 1);
}
uint64_t page_up(uint64_t v) {
  return (v + kPage - 1) & ~(kPage - 1);
}

int prot_of(uint32_t flags) {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
         ((flags & PF_X) ? PROT_EXEC : 0);
}

}  // namespace

std::optional<UserlandExec> UserlandExec::prepare(const std::string& program,
                                                  const std::vector<std::string>& args,
                                                  uint64_t sysinfo_ehdr, std::string* why) {
  std::ifstream in(program, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  Elf64_Ehdr eh;
  if (bytes.size() < sizeof eh) return fail(why, "cannot read " + program);
  std::memcpy(&eh, bytes.data(), sizeof eh);
  UserlandExec out;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, bytes.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type == PT_INTERP) out.interp_.assign(bytes.data() + ph.p_offset, ph.p_filesz - 1);
  }
  if (out.interp_.empty()) return fail(why, program + " has no PT_INTERP");

  std::ifstream auxv_file("/proc/self/auxv", std::ios::binary);
  Elf64_auxv_t entry;
  bool replaced = false;
  while (auxv_file.read(reinterpret_cast<char*>(&entry), sizeof entry)) {
    if (entry.a_type == AT_SYSINFO_EHDR) {
      entry.a_un.a_val = sysinfo_ehdr;
      replaced = true;
    }
    out.auxv_.push_back(entry);
    if (entry.a_type == AT_NULL) break;
  }
  if (!replaced || out.auxv_.empty() || out.auxv_.back().a_type != AT_NULL) {
    return fail(why, "no AT_SYSINFO_EHDR in /proc/self/auxv");
  }
  out.execfn_ = program;
  out.args_.push_back(out.interp_);
  out.args_.push_back(program);
  out.args_.insert(out.args_.end(), args.begin(), args.end());
  return out;
}

int UserlandExec::run() const {
  // Map the interpreter as the kernel would.
  const int fd = open(interp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 10;
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof eh, 0) != sizeof eh || eh.e_phnum > kMaxPhdrs) return 11;
  Elf64_Phdr ph[kMaxPhdrs];
  const ssize_t phsize = static_cast<ssize_t>(eh.e_phnum * sizeof(Elf64_Phdr));
  if (pread(fd, ph, static_cast<size_t>(phsize), static_cast<off_t>(eh.e_phoff)) != phsize) {
    return 12;
  }
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < eh.e_phnum; ++i) {
    if (ph[i].p_type != PT_LOAD) continue;
    lo = std::min(lo, page_down(ph[i].p_vaddr));
    hi = std::max(hi, page_up(ph[i].p_vaddr + ph[i].p_memsz));
  }
  void* reserve = mmap(nullptr, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserve == MAP_FAILED) return 13;
  const uint64_t bias = reinterpret_cast<uint64_t>(reserve) - lo;
  for (int i = 0; i < eh.e_phnum; ++i) {
    if (ph[i].p_type != PT_LOAD) continue;
    const uint64_t start = page_down(ph[i].p_vaddr);
    const uint64_t file_end = ph[i].p_vaddr + ph[i].p_filesz;
    const uint64_t mem_end = page_up(ph[i].p_vaddr + ph[i].p_memsz);
    const int prot = prot_of(ph[i].p_flags);
    void* at = reinterpret_cast<void*>(bias + start);
    const uint64_t file_len = page_up(file_end) - start;
    if (mmap(at, file_len, prot | (ph[i].p_memsz > ph[i].p_filesz ? PROT_WRITE : 0),
             MAP_PRIVATE | MAP_FIXED, fd,
             static_cast<off_t>(page_down(ph[i].p_offset))) == MAP_FAILED) {
      return 14;
    }
    if (ph[i].p_memsz > ph[i].p_filesz) {
      // .bss: zero the rest of the last file page, then anonymous pages.
      auto* z = reinterpret_cast<volatile uint8_t*>(bias + file_end);
      for (uint64_t a = file_end; a < page_up(file_end); ++a) *z++ = 0;
      if (mem_end > page_up(file_end) &&
          mmap(reinterpret_cast<void*>(bias + page_up(file_end)), mem_end - page_up(file_end), prot,
               MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
        return 15;
      }
      if (mprotect(at, file_len, prot) != 0) return 16;
    }
  }
  close(fd);

  // The new stack: argc, argv, envp, auxv, 16-byte aligned at argc. Strings stay where they
  // are (this process's memory is not going away).
  auto* stack = static_cast<uint8_t*>(
      mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (stack == MAP_FAILED) return 17;
  size_t envc = 0;
  while (environ[envc] != nullptr) ++envc;
  const size_t words = 1 + args_.size() + 1 + envc + 1 + 2 * auxv_.size();
  auto* sp = reinterpret_cast<uint64_t*>(
      (reinterpret_cast<uint64_t>(stack + kStackSize) - words * 8 - 64) & ~uint64_t{15});
  uint64_t* w = sp;
  *w++ = args_.size();
  for (const std::string& a : args_) *w++ = reinterpret_cast<uint64_t>(a.c_str());
  *w++ = 0;
  for (size_t i = 0; i < envc; ++i) *w++ = reinterpret_cast<uint64_t>(environ[i]);
  *w++ = 0;
  for (const Elf64_auxv_t& a : auxv_) {
    uint64_t value = a.a_un.a_val;
    switch (a.a_type) {
      case AT_PHDR:
        value = bias + eh.e_phoff;
        break;  // the interpreter runs as the program
      case AT_PHNUM:
        value = eh.e_phnum;
        break;
      case AT_PHENT:
        value = sizeof(Elf64_Phdr);
        break;
      case AT_ENTRY:
        value = bias + eh.e_entry;
        break;
      case AT_BASE:
        value = 0;
        break;
      case AT_EXECFN:
        value = reinterpret_cast<uint64_t>(execfn_.c_str());
        break;
      default:
        break;
    }
    *w++ = a.a_type;
    *w++ = value;
  }
  const uint64_t entry = bias + eh.e_entry;
  // rdx (the kernel passes 0: no atexit function) is clobbered so no operand lives in it.
  asm volatile("mov %0, %%rsp\n\txor %%edx, %%edx\n\tjmp *%1"
               :
               : "r"(sp), "r"(entry)
               : "rdx", "memory");
  __builtin_unreachable();
}

}  // namespace vdso_test
