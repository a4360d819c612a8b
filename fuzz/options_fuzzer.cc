// libFuzzer target for cli::parse_options(): the input is split at NUL bytes into argv words
// (the first word becomes $VDSORUN_LOG). A bad command line may only ever throw UsageError,
// and what parses must be self-consistent.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> words(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      words.emplace_back();
    } else {
      words.back() += static_cast<char>(data[i]);
    }
  }
  const std::string log_env = words.front();
  std::vector<std::string> args{"vdsorun"};
  args.insert(args.end(), words.begin() + 1, words.end());

  const size_t prog = cli::program_index(args);
  if (prog > args.size()) std::abort();
  try {
    const cli::Options o = cli::parse_options(args, log_env.c_str());
    // PROGRAM and its arguments are the tail of the command line, untouched.
    if (o.program_args.size() > args.size() - 1) std::abort();
    if (!o.program_args.empty() &&
        !std::equal(o.program_args.rbegin(), o.program_args.rend(), args.rbegin()))
      std::abort();
    if (!o.help && !o.version && o.program_args.empty()) std::abort();
    if (o.report_file && o.report_file->empty()) std::abort();
  } catch (const cli::UsageError&) {
  }
  return 0;
}
