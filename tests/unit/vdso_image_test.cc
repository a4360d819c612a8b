// Tests the embedded vDSO image against the injector's requirements, and that the checker
// catches each kind of defect in a mutated copy; also the dynamic-symbol reader.
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/auxv.h>

#include <cstring>
#include <string>
#include <vector>

#include "vdso/dynamic_symbols.h"
#include "vdso/image.h"
#include "vdso/image_check.h"

namespace vdso {
namespace {

std::vector<uint8_t> copy() {
  const auto img = image();
  return std::vector<uint8_t>(img.begin(), img.end());
}

Elf64_Ehdr* ehdr(std::vector<uint8_t>& b) {
  return reinterpret_cast<Elf64_Ehdr*>(b.data());
}

Elf64_Phdr* phdr(std::vector<uint8_t>& b, uint32_t type) {
  auto* ph = reinterpret_cast<Elf64_Phdr*>(b.data() + ehdr(b)->e_phoff);
  for (int i = 0; i < ehdr(b)->e_phnum; ++i) {
    if (ph[i].p_type == type) return &ph[i];
  }
  return nullptr;
}

Elf64_Dyn* dyn(std::vector<uint8_t>& b, int64_t tag) {
  const Elf64_Phdr* d = phdr(b, PT_DYNAMIC);
  auto* e = reinterpret_cast<Elf64_Dyn*>(b.data() + d->p_offset);
  for (; e->d_tag != DT_NULL; ++e) {
    if (e->d_tag == tag) return e;
  }
  return nullptr;
}

// Replaces the first occurrence of `from` (with its NUL) in the image by `to` (same length).
void replace_string(std::vector<uint8_t>& b, const std::string& from, const std::string& to) {
  ASSERT_EQ(from.size(), to.size());
  const std::string needle = std::string(1, '\0') + from + std::string(1, '\0');
  const auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
  ASSERT_NE(it, b.end()) << from;
  std::memcpy(&*(it + 1), to.data(), to.size());
}

std::string why_not(const std::vector<uint8_t>& b) {
  std::string why;
  EXPECT_FALSE(check_image(b, &why));
  return why;
}

TEST(VdsoImage, EmbeddedImagePassesTheCheck) {
  std::string why;
  EXPECT_TRUE(check_image(image(), &why)) << why;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(image().data()) % kPageSize, 0u);
}

TEST(VdsoImage, LayoutConstantsDescribeOneInjection) {
  EXPECT_EQ(image_map_size() % kPageSize, 0u);
  EXPECT_GE(image_map_size(), image().size());
  EXPECT_LT(image_map_size() - image().size(), kPageSize);
  EXPECT_EQ(kImageOffset, kVvarPages * kPageSize);
  EXPECT_EQ(injection_size(), kImageOffset + image_map_size());
}

TEST(VdsoImage, CheckRejectsAWritableSegment) {
  auto b = copy();
  phdr(b, PT_LOAD)->p_flags |= PF_W;
  EXPECT_NE(why_not(b).find("R+X"), std::string::npos);
  b = copy();
  phdr(b, PT_NOTE)->p_flags |= PF_W;
  EXPECT_NE(why_not(b).find("writable segment"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsZeroFill) {
  auto b = copy();
  phdr(b, PT_LOAD)->p_memsz += 4096;
  EXPECT_NE(why_not(b).find("p_filesz != p_memsz"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsAWritableDynamicSegment) {
  auto b = copy();
  phdr(b, PT_DYNAMIC)->p_flags |= PF_W;
  EXPECT_NE(why_not(b).find("writable"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsUnexpectedSegments) {
  auto b = copy();
  phdr(b, PT_NOTE)->p_type = PT_GNU_STACK;
  EXPECT_NE(why_not(b).find("unexpected program header"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsNeededLibrariesAndRelocations) {
  auto b = copy();
  dyn(b, DT_SYMBOLIC)->d_tag = DT_NEEDED;
  EXPECT_NE(why_not(b).find("DT_NEEDED"), std::string::npos);
  b = copy();
  dyn(b, DT_SYMBOLIC)->d_tag = DT_RELA;
  EXPECT_NE(why_not(b).find("DT_RELA"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsAMissingHashTable) {
  auto b = copy();
  dyn(b, DT_HASH)->d_tag = DT_DEBUG;
  EXPECT_NE(why_not(b).find("DT_HASH"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsAWrongSoname) {
  auto b = copy();
  replace_string(b, "linux-vdso.so.1", "linux-gate.so.1");
  EXPECT_NE(why_not(b).find("soname"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsAWrongExportList) {
  auto b = copy();
  replace_string(b, "__vdso_getcpu", "__vdso_getcpX");
  EXPECT_FALSE(check_image(b, nullptr));
}

TEST(VdsoImage, CheckRejectsACorruptGnuHash) {
  auto b = copy();
  const uint64_t off = dyn(b, DT_GNU_HASH)->d_un.d_ptr;
  std::memset(b.data() + off + 16, 0, 8);  // the first bloom word
  EXPECT_NE(why_not(b).find("DT_HASH and DT_GNU_HASH"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsAMovedVvarSymbol) {
  auto b = copy();
  const auto* eh = ehdr(b);
  auto* sh = reinterpret_cast<Elf64_Shdr*>(b.data() + eh->e_shoff);
  bool moved = false;
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sh[i].sh_type != SHT_SYMTAB) continue;
    const Elf64_Shdr& str = sh[sh[i].sh_link];
    for (uint64_t o = 0; o < sh[i].sh_size; o += sizeof(Elf64_Sym)) {
      auto* s = reinterpret_cast<Elf64_Sym*>(b.data() + sh[i].sh_offset + o);
      if (std::string(reinterpret_cast<const char*>(b.data() + str.sh_offset + s->st_name)) ==
          kVvarSymbol) {
        s->st_value -= kPageSize;
        moved = true;
      }
    }
  }
  ASSERT_TRUE(moved);
  EXPECT_NE(why_not(b).find("vdso_vvar_page"), std::string::npos);
}

TEST(VdsoImage, CheckRejectsTruncationAndGarbage) {
  auto b = copy();
  EXPECT_FALSE(check_image(std::span(b).first(100), nullptr));
  EXPECT_FALSE(check_image(std::span(b).first(b.size() / 2), nullptr));
  std::vector<uint8_t> junk(4096, 0xcc);
  EXPECT_FALSE(check_image(junk, nullptr));
  EXPECT_FALSE(check_image({}, nullptr));
}

TEST(VdsoDynamicSymbols, BothHashTablesFindEveryExport) {
  std::string why;
  const auto syms = DynamicSymbols::parse(image(), &why);
  ASSERT_TRUE(syms.has_value()) << why;
  EXPECT_EQ(syms->soname(), std::string("linux-vdso.so.1"));
  for (std::string_view f : kExportedFunctions) {
    const std::string full = "__vdso_" + std::string(f);
    EXPECT_TRUE(syms->index_via_sysv_hash(full).has_value()) << full;
    EXPECT_EQ(syms->index_via_sysv_hash(full), syms->index_via_gnu_hash(full)) << full;
    EXPECT_EQ(syms->lookup(f, "LINUX_2.6"), syms->lookup(full, "LINUX_2.6")) << f;
    EXPECT_TRUE(syms->lookup(full, "").has_value());
    EXPECT_FALSE(syms->lookup(full, "LINUX_2.5").has_value());
  }
  EXPECT_FALSE(syms->index_via_gnu_hash("__vdso_getrandom").has_value());
  EXPECT_FALSE(syms->index_via_sysv_hash("__vdso_getrandom").has_value());
}

TEST(VdsoDynamicSymbols, ReadsTheHostKernelsVdso) {
  const auto ehdr_addr = getauxval(AT_SYSINFO_EHDR);
  if (ehdr_addr == 0) GTEST_SKIP() << "no host vDSO";
  std::string why;
  const auto syms =
      DynamicSymbols::parse(DynamicSymbols::mapped_image(reinterpret_cast<void*>(ehdr_addr)), &why);
  ASSERT_TRUE(syms.has_value()) << why;
  EXPECT_TRUE(syms->lookup("__vdso_clock_gettime", "LINUX_2.6").has_value());
  EXPECT_TRUE(syms->lookup("__vdso_getcpu", "LINUX_2.6").has_value());
}

TEST(VdsoDynamicSymbols, HashFunctionsMatchTheirDefinitions) {
  EXPECT_EQ(DynamicSymbols::gnu_hash(""), 5381u);
  EXPECT_EQ(DynamicSymbols::gnu_hash("printf"), 0x156b2bb8u);
  EXPECT_EQ(DynamicSymbols::sysv_hash("printf"), 0x077905a6u);
}

}  // namespace
}  // namespace vdso
