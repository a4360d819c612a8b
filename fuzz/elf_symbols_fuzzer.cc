// libFuzzer target for emulator::ElfSymbols: arbitrary bytes as an ELF file (the file is the
// program's, so anything), then look-ups at offsets taken from the input.
#include <cstdint>
#include <cstring>
#include <string>

#include "emulator/report/elf_symbols.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string img(reinterpret_cast<const char*>(data), size);
  const auto syms = emulator::ElfSymbols::parse(img);
  if (!syms) return 0;
  // Offsets inside the file, at its end, and taken from its last bytes.
  uint64_t tail = 0;
  if (size >= 8) std::memcpy(&tail, data + size - 8, 8);
  for (uint64_t off : {uint64_t{0}, uint64_t{size / 2}, uint64_t{size}, tail, ~uint64_t{0}}) {
    if (auto hit = syms->lookup_file_offset(off)) (void)hit->name.size();
  }
  return 0;
}
