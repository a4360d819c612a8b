// libFuzzer target for emulator::parse_initial_stack(): arbitrary bytes as the words at a new
// image's rsp. Every entry it returns must lie inside the bytes, in order, ending in AT_NULL.
#include <elf.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "emulator/inject/auxv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto auxv = emulator::parse_initial_stack(std::span<const uint8_t>(data, size));
  if (!auxv) return 0;
  if (auxv->empty() || auxv->back().type != AT_NULL) std::abort();
  size_t prev = 0;
  for (const emulator::AuxvEntry& e : *auxv) {
    if (e.offset < prev || e.offset % 8 != 0 || e.offset > size || size - e.offset < 16)
      std::abort();
    uint64_t words[2];
    std::memcpy(words, data + e.offset, 16);
    if (words[0] != e.type || words[1] != e.value) std::abort();
    prev = e.offset + 16;
  }
  return 0;
}
