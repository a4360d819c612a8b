// Tests the file side of `vdsorun scan`: ELF images built in memory, libc banners, Go build
// info in both of its layouts, and the report's exit status.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "scan/elf_image.h"
#include "scan/runtime_facts.h"
#include "scan/scan_report.h"

namespace scan {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// An ELF64 x86-64 executable with no section headers and one R+X PT_LOAD of `payload` at
// vaddr 0x400000 + file offset (the payload starts at file offset 0x100).
Bytes tiny_elf(const Bytes& payload) {
  Bytes f(0x100, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_flags = PF_R | PF_X;
  ph.p_offset = 0;
  ph.p_vaddr = 0x400000;
  ph.p_filesz = ph.p_memsz = 0x100 + payload.size();
  std::memcpy(f.data(), &eh, sizeof eh);
  std::memcpy(f.data() + sizeof eh, &ph, sizeof ph);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

TEST(ScanElf, ImageWithoutSectionsIsReadThroughItsSegments) {
  // mov $0xffffffffff600000,%rax; call *%rax
  const Bytes code = {0x90, 0x90, 0x48, 0xc7, 0xc0, 0x00, 0x00, 0x60, 0xff, 0xff, 0xd0, 0xc3};
  const Bytes file = tiny_elf(code);
  const ElfImage elf(file);
  EXPECT_TRUE(elf.sections().empty());
  const auto view = elf.image_view();
  ASSERT_EQ(view.code.size(), 1u);
  EXPECT_EQ(view.code[0].vaddr, 0x400000u);
  auto findings = vsyscall::scan_image(view);
  ASSERT_EQ(findings.calls.size(), 1u);
  EXPECT_EQ(findings.calls[0].address, 0x400100u + 9);
  const auto at = elf.at_vaddr(0x400102, 3);
  EXPECT_EQ(at.data(), file.data() + 0x102);
  EXPECT_EQ(at.size(), 3u);
  EXPECT_TRUE(elf.at_vaddr(0x300000, 8).empty());
}

TEST(ScanElf, TruncatedHeadersAreNotTrusted) {
  Bytes file = tiny_elf({});
  file.resize(sizeof(Elf64_Ehdr) + 10);  // the program header is cut off
  const ElfImage elf(file);
  EXPECT_TRUE(elf.image_view().code.empty());
  EXPECT_EQ(elf.interpreter(), "");
}

TEST(ScanRuntime, ReadsTheGlibcBannerVersion) {
  EXPECT_EQ(glibc_banner_version(bytes_of(std::string("xx\0GNU C Library (Debian GLIBC "
                                                      "2.36-9+deb12u4) stable release version "
                                                      "2.36.\nCopyright",
                                                      80))),
            "2.36");
  EXPECT_EQ(glibc_banner_version(
                bytes_of("GNU C Library stable release version 2.13, by Roland McGrath et al.")),
            "2.13");
  EXPECT_EQ(glibc_banner_version(bytes_of("no banner here")), "");
  EXPECT_EQ(glibc_banner_version({}), "");
}

Bytes buildinfo_header(uint8_t flags) {
  Bytes b = bytes_of("\xff Go buildinf:");
  b.push_back(8);  // pointer size
  b.push_back(flags);
  b.resize(32, 0);
  return b;
}

TEST(ScanRuntime, ReadsInlineGoBuildInfo) {
  Bytes b = buildinfo_header(2);  // Go 1.18+: inline strings
  b.push_back(8);
  const Bytes v = bytes_of("go1.19.8");
  b.insert(b.end(), v.begin(), v.end());
  EXPECT_EQ(go_buildinfo_version(b, nullptr), "go1.19.8");
  b.resize(36);  // the string runs past the end
  EXPECT_EQ(go_buildinfo_version(b, nullptr), "");
}

TEST(ScanRuntime, ReadsPointerGoBuildInfoThroughTheSegments) {
  // Go 1.13-1.17: the header points at a string header (data, len) that points at the text.
  // Payload layout (vaddr 0x400100 + offset): 0: string header, 16: "go1.15.15".
  Bytes payload(16, 0);
  const uint64_t data = 0x400110, len = 9;
  std::memcpy(payload.data(), &data, 8);
  std::memcpy(payload.data() + 8, &len, 8);
  const Bytes v = bytes_of("go1.15.15");
  payload.insert(payload.end(), v.begin(), v.end());
  const Bytes file = tiny_elf(payload);
  const ElfImage elf(file);
  Bytes b = buildinfo_header(0);
  const uint64_t hdr = 0x400100;
  std::memcpy(b.data() + 16, &hdr, 8);
  EXPECT_EQ(go_buildinfo_version(b, &elf), "go1.15.15");
  EXPECT_EQ(go_buildinfo_version(b, nullptr), "");
}

TEST(ScanReport, ExitStatusIsGreps) {
  ScanSummary s;
  EXPECT_EQ(s.exit_status(), 1);  // nothing found
  s.files.push_back({});
  EXPECT_EQ(s.exit_status(), 1);  // all clean
  s.files.push_back({});
  s.files.back().assessment.verdict = vsyscall::Verdict::kNeedsVdso;
  EXPECT_EQ(s.exit_status(), 0);
  s.errors.push_back({"/x", "No such file or directory"});
  EXPECT_EQ(s.exit_status(), 2);
}

TEST(ScanReport, NamesTargets) {
  EXPECT_EQ(target_name(0xffffffffff600000), "gettimeofday");
  EXPECT_EQ(target_name(0xffffffffff600800), "getcpu");
  EXPECT_EQ(target_name(0xffffffffff600808), "page+0x808");
}

TEST(ScanReport, JsonEscapesPaths) {
  ScanSummary s;
  s.files.push_back({});
  s.files.back().path = "a\"b\\c\nd";
  std::ostringstream out;
  write_json(out, s);
  EXPECT_NE(out.str().find(R"("path":"a\"b\\c\nd")"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace scan
