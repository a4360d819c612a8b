// Where a run and `vdsorun scan` disagree: whether the static scanner finds, in one file, the
// call sites and page reads a running program was seen to make there (issue 11). A site the
// scanner misses is one its users would not have been warned about.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scan {

struct SeenSites {
  std::vector<uint64_t> call_returns;  // file offsets of calls' return addresses
  std::vector<uint64_t> reads;         // file offsets of reading instructions
};

struct SiteCheck {
  std::vector<bool> calls_found;  // parallel to SeenSites::call_returns
  std::vector<bool> reads_found;  // parallel to SeenSites::reads
};

// Scans `path` and says which of `seen` it finds: a call whose instruction ends at the return
// address (a tail call's `jmp` cannot be matched that way: its return address is its
// caller's), a read at the instruction's address. nullopt if the file is not an x86-64 ELF
// file that can be read, or an offset lies outside its loaded segments.
std::optional<SiteCheck> check_sites(const std::string& path, const SeenSites& seen);

}  // namespace scan
