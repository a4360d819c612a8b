// Mapping an ELF file and reading its headers, dynamic section, version needs and symbols.
#include "scan/elf_image.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace scan {
namespace {

// Closes the descriptor when the scan of one file ends.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

template <typename T>
bool read_struct(std::span<const uint8_t> file, uint64_t off, T* out) {
  if (off > file.size() || file.size() - off < sizeof(T)) return false;
  std::memcpy(out, file.data() + off, sizeof(T));
  return true;
}

}  // namespace

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    this->~MappedFile();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
}

OpenResult map_elf(const std::string& path, MappedFile* out, std::string* error) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    *error = std::strerror(errno);
    return OpenResult::kError;
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    *error = std::strerror(errno);
    return OpenResult::kError;
  }
  if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr)))
    return OpenResult::kNotElf;
  Elf64_Ehdr eh;
  const ssize_t n = pread(fd.get(), &eh, sizeof eh, 0);
  if (n < 0) {
    *error = std::strerror(errno);
    return OpenResult::kError;
  }
  if (n != sizeof eh || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_machine != EM_X86_64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
    return OpenResult::kNotElf;
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) {
    *error = std::strerror(errno);
    return OpenResult::kError;
  }
  *out = MappedFile(static_cast<const uint8_t*>(p), static_cast<size_t>(st.st_size));
  return OpenResult::kElf;
}

ElfImage::ElfImage(std::span<const uint8_t> file) : file_(file) {
  Elf64_Ehdr eh;
  if (!read_struct(file_, 0, &eh)) return;
  if (eh.e_shentsize == sizeof(Elf64_Shdr)) {
    std::vector<Elf64_Shdr> raw;
    for (uint64_t i = 0; i < eh.e_shnum; ++i) {
      Elf64_Shdr sh;
      if (!read_struct(file_, eh.e_shoff + i * sizeof sh, &sh)) break;
      raw.push_back(sh);
    }
    const Elf64_Shdr* strtab = eh.e_shstrndx < raw.size() ? &raw[eh.e_shstrndx] : nullptr;
    for (const Elf64_Shdr& sh : raw) {
      Section s;
      s.type = sh.sh_type;
      s.flags = sh.sh_flags;
      s.addr = sh.sh_addr;
      s.offset = sh.sh_offset;
      s.size = sh.sh_size;
      s.link = sh.sh_link;
      s.entsize = sh.sh_entsize;
      if (strtab != nullptr && strtab->sh_offset < file_.size() && sh.sh_name < strtab->sh_size) {
        const uint64_t off = strtab->sh_offset + sh.sh_name;
        const size_t max = static_cast<size_t>(std::min<uint64_t>(
            file_.size() - std::min<uint64_t>(off, file_.size()), strtab->sh_size - sh.sh_name));
        if (off < file_.size()) {
          const char* c = reinterpret_cast<const char*>(file_.data() + off);
          s.name = std::string_view(c, strnlen(c, max));
        }
      }
      sections_.push_back(s);
    }
  }
  if (eh.e_phentsize == sizeof(Elf64_Phdr)) {
    for (uint64_t i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      if (!read_struct(file_, eh.e_phoff + i * sizeof ph, &ph)) break;
      segments_.push_back({ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_filesz});
    }
  }
}

const Section* ElfImage::section(std::string_view name) const {
  for (const Section& s : sections_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::span<const uint8_t> ElfImage::contents(const Section& s) const {
  if (s.type == SHT_NOBITS || s.offset >= file_.size()) return {};
  return file_.subspan(s.offset, std::min<uint64_t>(s.size, file_.size() - s.offset));
}

vsyscall::ImageView ElfImage::image_view() const {
  vsyscall::ImageView v;
  bool any = false;
  for (const Section& s : sections_) {
    if ((s.flags & SHF_ALLOC) == 0 || s.type != SHT_PROGBITS) continue;
    any = true;
    const vsyscall::Region r{s.addr, contents(s)};
    if ((s.flags & SHF_EXECINSTR) != 0) {
      v.code.push_back(r);
    } else {
      v.data.push_back(r);
    }
  }
  if (any) return v;
  for (const Segment& g : segments_) {
    if (g.type != PT_LOAD || g.offset >= file_.size()) continue;
    const vsyscall::Region r{
        g.vaddr, file_.subspan(g.offset, std::min<uint64_t>(g.filesz, file_.size() - g.offset))};
    if ((g.flags & PF_X) != 0) {
      v.code.push_back(r);
    } else {
      v.data.push_back(r);
    }
  }
  return v;
}

std::span<const uint8_t> ElfImage::at_vaddr(uint64_t vaddr, uint64_t size) const {
  for (const Segment& g : segments_) {
    if (g.type != PT_LOAD || vaddr < g.vaddr || vaddr - g.vaddr >= g.filesz) continue;
    const uint64_t off = g.offset + (vaddr - g.vaddr);
    if (off >= file_.size()) return {};
    const uint64_t avail = std::min<uint64_t>(g.filesz - (vaddr - g.vaddr), file_.size() - off);
    return file_.subspan(off, std::min(size, avail));
  }
  return {};
}

std::string ElfImage::interpreter() const {
  for (const Segment& g : segments_) {
    if (g.type != PT_INTERP || g.offset >= file_.size()) continue;
    const auto b = file_.subspan(g.offset, std::min<uint64_t>(g.filesz, file_.size() - g.offset));
    const char* c = reinterpret_cast<const char*>(b.data());
    return std::string(c, strnlen(c, b.size()));
  }
  return {};
}

std::vector<std::pair<int64_t, uint64_t>> ElfImage::dynamic_entries() const {
  std::vector<std::pair<int64_t, uint64_t>> out;
  const Section* dyn = section(".dynamic");
  if (dyn == nullptr) return out;
  const auto b = contents(*dyn);
  for (size_t off = 0; off + sizeof(Elf64_Dyn) <= b.size(); off += sizeof(Elf64_Dyn)) {
    Elf64_Dyn d;
    std::memcpy(&d, b.data() + off, sizeof d);
    if (d.d_tag == DT_NULL) break;
    out.emplace_back(d.d_tag, d.d_un.d_val);
  }
  return out;
}

std::string_view ElfImage::string_at(const Section& strtab, uint64_t off) const {
  const auto b = contents(strtab);
  if (off >= b.size()) return {};
  const char* c = reinterpret_cast<const char*>(b.data() + off);
  return std::string_view(c, strnlen(c, b.size() - off));
}

std::string ElfImage::dynamic_string(uint64_t off) const {
  const Section* s = section(".dynstr");
  return s != nullptr ? std::string(string_at(*s, off)) : std::string();
}

std::string ElfImage::soname() const {
  for (const auto& [tag, val] : dynamic_entries()) {
    if (tag == DT_SONAME) return dynamic_string(val);
  }
  return {};
}

std::vector<std::string> ElfImage::needed() const {
  std::vector<std::string> out;
  for (const auto& [tag, val] : dynamic_entries()) {
    if (tag == DT_NEEDED) out.push_back(dynamic_string(val));
  }
  return out;
}

std::vector<std::string> ElfImage::version_needs() const {
  std::vector<std::string> out;
  for (const Section& s : sections_) {
    if (s.type != SHT_GNU_verneed || s.link >= sections_.size()) continue;
    const Section& strtab = sections_[s.link];
    const auto b = contents(s);
    uint64_t off = 0;
    // Bounded by the section's own count of entries would need DT_VERNEEDNUM; vn_next == 0
    // ends the chain, and every step is checked against the section.
    for (int guard = 0; guard < 1024; ++guard) {
      Elf64_Verneed vn;
      if (off > b.size() || b.size() - off < sizeof vn) break;
      std::memcpy(&vn, b.data() + off, sizeof vn);
      uint64_t aoff = off + vn.vn_aux;
      for (unsigned i = 0; i < vn.vn_cnt; ++i) {
        Elf64_Vernaux va;
        if (aoff > b.size() || b.size() - aoff < sizeof va) break;
        std::memcpy(&va, b.data() + aoff, sizeof va);
        out.emplace_back(string_at(strtab, va.vna_name));
        if (va.vna_next == 0) break;
        aoff += va.vna_next;
      }
      if (vn.vn_next == 0) break;
      off += vn.vn_next;
    }
  }
  return out;
}

std::optional<uint64_t> ElfImage::symbol_value(std::string_view name) const {
  for (const char* table : {".symtab", ".dynsym"}) {
    const Section* s = section(table);
    if (s == nullptr || s->link >= sections_.size()) continue;
    const Section& strtab = sections_[s->link];
    const auto b = contents(*s);
    for (size_t off = 0; off + sizeof(Elf64_Sym) <= b.size(); off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, b.data() + off, sizeof sym);
      if (sym.st_shndx != SHN_UNDEF && string_at(strtab, sym.st_name) == name) return sym.st_value;
    }
  }
  return std::nullopt;
}

}  // namespace scan
