// Builds the canonical page image once.
#include "vsyscall/page.h"

namespace vsyscall {

std::string_view entry_name(Entry e) {
  switch (e) {
    case Entry::kGettimeofday:
      return "gettimeofday";
    case Entry::kTime:
      return "time";
    case Entry::kGetcpu:
      return "getcpu";
  }
  return "?";
}

namespace {
std::array<uint8_t, kPageSize> build_image() {
  std::array<uint8_t, kPageSize> img;
  img.fill(0xcc);
  for (Entry e : kAllEntries) {
    const uint64_t off = entry_address(e) - kPageBase;
    const int nr = syscall_number(e);
    const uint8_t code[kEntryCodeSize] = {0x48,
                                          0xc7,
                                          0xc0,
                                          static_cast<uint8_t>(nr & 0xff),
                                          static_cast<uint8_t>((nr >> 8) & 0xff),
                                          0x00,
                                          0x00,
                                          0x0f,
                                          0x05,
                                          0xc3};
    for (uint64_t i = 0; i < kEntryCodeSize; ++i) img[off + i] = code[i];
  }
  return img;
}
}  // namespace

const std::array<uint8_t, kPageSize>& page_image() {
  static const std::array<uint8_t, kPageSize> image = build_image();
  return image;
}

}  // namespace vsyscall
