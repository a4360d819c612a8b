#include "emulator/report/recorder.h"

#include "emulator/log.h"
#include "emulator/trace/maps.h"
#include "emulator/trace/process_memory.h"
#include "vsyscall/page.h"

namespace emulator {

CodeSite Recorder::describe(pid_t pid, uint64_t addr, bool is_return_address) {
  CodeSite site;
  site.address = addr;
  const auto maps = read_maps(pid);
  if (const MapEntry* m = find_mapping(maps, addr)) {
    site.module = m->path.empty() ? "[anon]" : m->path;
    site.module_offset = addr - m->start + m->offset;
  }
  ProcessMemory mem(pid);
  uint8_t bytes[16];
  if (is_return_address) {
    if (mem.read_partial(addr - 15, std::span<uint8_t>(bytes, 15)) == 15) {
      if (auto insn = disasm_.call_before(std::span<const uint8_t>(bytes, 15), addr))
        site.instruction = insn->text;
    }
  } else {
    size_t n = mem.read_partial(addr, std::span<uint8_t>(bytes, 15));
    if (auto insn = disasm_.decode(std::span<const uint8_t>(bytes, n), addr))
      site.instruction = insn->text;
  }
  return site;
}

void Recorder::call(ProcessReport& img, pid_t pid, uint64_t target, uint64_t return_address,
                    Outcome o) {
  SiteStats* s;
  if (auto e = vsyscall::entry_at(target)) {
    EntryStats& es = img.entries[*e];
    ++es.calls;
    s = &es.call_sites[return_address];
    if (s->count == 0) s->site = describe(pid, return_address, true);
  } else {
    ++img.other_calls;
    s = &img.other_sites[target];
    if (s->count == 0) s->site = describe(pid, return_address, true);
    s->site.address = target;
  }
  ++s->count;
  ++s->outcomes[o];
  VDSORUN_LOG(kDebug, "pid %d: call to %#llx from %#llx: %s", pid,
              static_cast<unsigned long long>(target),
              static_cast<unsigned long long>(return_address), outcome_name(o).data());
}

void Recorder::amend_call(ProcessReport& img, uint64_t target, uint64_t return_address,
                          Outcome from, Outcome to) {
  auto e = vsyscall::entry_at(target);
  if (!e) return;
  SiteStats& s = img.entries[*e].call_sites[return_address];
  if (s.outcomes[from] > 0 && --s.outcomes[from] == 0) s.outcomes.erase(from);
  ++s.outcomes[to];
}

void Recorder::read(ProcessReport& img, pid_t pid, uint64_t rip, Outcome o,
                    const std::string& insn, const std::string& reason) {
  ++img.reads;
  SiteStats& s = img.read_sites[rip];
  if (s.count == 0) {
    s.site = describe(pid, rip, false);
    if (!insn.empty()) s.site.instruction = insn;
  }
  ++s.count;
  ++s.outcomes[o];
  if (!reason.empty()) s.reason = reason;
  VDSORUN_LOG(kDebug, "pid %d: read of the page by %#llx: %s", pid,
              static_cast<unsigned long long>(rip), outcome_name(o).data());
}

}  // namespace emulator
