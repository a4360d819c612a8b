// Tests the vDSO injection stub without a tracer: its layout (decoded with Capstone) and a
// real run in a forked child, whose SIGILL handler at the final `ud2` reports the result
// registers.
#include "emulator/inject/inject_stub.h"

#include <capstone/capstone.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "emulator/trace/seccomp_policy.h"

namespace emulator {
namespace {

InjectStubParams sample_params() {
  return {"/proc/4242/fd/7", "/proc/4242/fd/12", 0x4000, 0x2000};
}

struct Decoded {
  std::vector<std::string> mnemonics;
  std::vector<uint64_t> lea_targets;  // rip-relative lea: target offsets
  std::vector<uint64_t> js_targets;   // js: target offsets
  std::vector<uint64_t> movabs_imms;  // 64-bit immediates
  size_t end = 0;                     // offset after the last decoded instruction
};

Decoded decode(const std::vector<uint8_t>& code, size_t len) {
  Decoded d;
  csh h;
  EXPECT_EQ(cs_open(CS_ARCH_X86, CS_MODE_64, &h), CS_ERR_OK);
  cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
  cs_insn* insn = nullptr;
  const size_t n = cs_disasm(h, code.data(), len, 0, 0, &insn);
  for (size_t i = 0; i < n; ++i) {
    const cs_insn& in = insn[i];
    d.mnemonics.push_back(in.mnemonic);
    d.end = in.address + in.size;
    const cs_x86& x = in.detail->x86;
    if (in.id == X86_INS_LEA && x.operands[1].mem.base == X86_REG_RIP)
      d.lea_targets.push_back(in.address + in.size + x.operands[1].mem.disp);
    if (in.id == X86_INS_JS) d.js_targets.push_back(x.operands[0].imm);
    if (in.id == X86_INS_MOVABS ||
        (in.id == X86_INS_MOV && in.size == 10 && x.operands[1].type == X86_OP_IMM))
      d.movabs_imms.push_back(static_cast<uint64_t>(x.operands[1].imm));
  }
  cs_free(insn, n);
  cs_close(&h);
  return d;
}

}  // namespace

TEST(InjectStub, CodeDecodesUpToUd2AndStringsFollow) {
  const InjectStubParams p = sample_params();
  const InjectStub s = build_inject_stub(p);
  const Decoded d = decode(s.bytes, s.vvar_path);
  ASSERT_FALSE(d.mnemonics.empty());
  EXPECT_EQ(d.end, s.vvar_path) << "every code byte decodes, and nothing else";
  EXPECT_EQ(d.mnemonics.back(), "ud2");
  EXPECT_EQ(s.ud2 + 2, s.vvar_path);
  EXPECT_EQ(s.marker_end, s.ud2);
  // The marker `syscall` ends right where rip is at its seccomp stop.
  EXPECT_EQ(s.bytes[s.marker_end - 2], 0x0f);
  EXPECT_EQ(s.bytes[s.marker_end - 1], 0x05);
  EXPECT_STREQ(reinterpret_cast<const char*>(s.bytes.data() + s.vvar_path), p.vvar_path.c_str());
  EXPECT_STREQ(reinterpret_cast<const char*>(s.bytes.data() + s.image_path), p.image_path.c_str());
  EXPECT_EQ(s.bytes.size(), s.image_path + p.image_path.size() + 1);
  EXPECT_LE(s.bytes.size(), 256u) << "small enough to fit after almost any entry point";
}

TEST(InjectStub, AddressesAndImmediatesArePatched) {
  const InjectStubParams p = sample_params();
  const InjectStub s = build_inject_stub(p);
  const Decoded d = decode(s.bytes, s.vvar_path);
  EXPECT_EQ(d.lea_targets, (std::vector<uint64_t>{s.vvar_path, s.image_path}));
  // Every early exit lands on the marker's first instruction (movabs $magic,%rdi).
  ASSERT_EQ(d.js_targets.size(), 3u);
  for (uint64_t t : d.js_targets) EXPECT_EQ(t, d.js_targets[0]);
  uint64_t magic = 0;
  std::memcpy(&magic, s.bytes.data() + d.js_targets[0] + 2, 8);
  EXPECT_EQ(magic, kInjectDoneMagic);
  EXPECT_EQ(d.movabs_imms, (std::vector<uint64_t>{p.vvar_size + p.image_size, p.vvar_size,
                                                  p.image_size, kInjectDoneMagic}));
}

TEST(InjectStub, ResultsAreReadInOrder) {
  using F = InjectStubResult::Failed;
  const InjectStubParams p = sample_params();
  const uint64_t base = 0x7f0000000000;
  const auto neg = [](long e) { return static_cast<uint64_t>(-e); };
  EXPECT_EQ(interpret_inject_stub(neg(ENOENT), 1, 2, 3, p).failed, F::kOpenVvar);
  EXPECT_EQ(interpret_inject_stub(neg(ENOENT), 1, 2, 3, p).error, -ENOENT);
  auto r = interpret_inject_stub(3, neg(ENOMEM), 2, 3, p);
  EXPECT_EQ(r.failed, F::kMapVvar);
  EXPECT_EQ(r.base, 0u);
  r = interpret_inject_stub(3, base, neg(EACCES), 0, p);
  EXPECT_EQ(r.failed, F::kOpenImage);
  EXPECT_EQ(r.base, base) << "mapped: the caller must unmap it";
  EXPECT_EQ(r.span, 0x6000u);
  r = interpret_inject_stub(3, base, 4, neg(EPERM), p);
  EXPECT_EQ(r.failed, F::kMapImage);
  EXPECT_EQ(r.error, -EPERM);
  r = interpret_inject_stub(3, base, 4, base + p.vvar_size, p);
  EXPECT_EQ(r.failed, F::kNothing);
  EXPECT_EQ(r.base, base);
}

// --- Running it ------------------------------------------------------------------------------

namespace {

int g_report_fd = -1;

// At the stub's final ud2: send r12..r15 and whether the image bytes are where they should be.
void on_sigill(int, siginfo_t*, void* ctx) {
  const auto* uc = static_cast<const ucontext_t*>(ctx);
  uint64_t out[4] = {static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_R12]),
                     static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_R13]),
                     static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_R14]),
                     static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_R15])};
  ssize_t ignored = write(g_report_fd, out, sizeof out);
  (void)ignored;
  _exit(0);
}

struct StubRunReport {
  bool ok = false;
  uint64_t regs[4] = {};
};

// Runs the stub in a forked child over two fresh memfds, or over paths that do not exist.
StubRunReport run_in_child(bool break_vvar_path, bool break_image_path, InjectStubParams* used) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  int pipefd[2];
  if (pipe(pipefd) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    g_report_fd = pipefd[1];
    const int vvar = memfd_create("stub-vvar", 0), image = memfd_create("stub-image", 0);
    if (ftruncate(vvar, static_cast<off_t>(page)) != 0 ||
        ftruncate(image, static_cast<off_t>(2 * page)) != 0)
      _exit(2);
    InjectStubParams p{"/proc/self/fd/" + std::to_string(vvar),
                       "/proc/self/fd/" + std::to_string(image), page, 2 * page};
    if (break_vvar_path) p.vvar_path = "/nonexistent/vvar";
    if (break_image_path) p.image_path = "/nonexistent/image";
    const InjectStub s = build_inject_stub(p);
    void* code = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) _exit(3);
    std::memcpy(code, s.bytes.data(), s.bytes.size());
    if (mprotect(code, page, PROT_READ | PROT_EXEC) != 0) _exit(4);
    struct sigaction sa {};
    sa.sa_sigaction = on_sigill;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, nullptr);
    reinterpret_cast<void (*)()>(code)();  // never returns: ends in ud2
    _exit(5);
  }
  close(pipefd[1]);
  StubRunReport r;
  r.ok = read(pipefd[0], r.regs, sizeof r.regs) == static_cast<ssize_t>(sizeof r.regs);
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.ok = r.ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  *used = {"", "", page, 2 * page};
  return r;
}

}  // namespace

TEST(InjectStub, MapsBothObjectsAdjacentWhenRun) {
  InjectStubParams p;
  const StubRunReport r = run_in_child(false, false, &p);
  ASSERT_TRUE(r.ok);
  const auto res = interpret_inject_stub(r.regs[0], r.regs[1], r.regs[2], r.regs[3], p);
  EXPECT_EQ(res.failed, InjectStubResult::Failed::kNothing) << "error " << res.error;
  EXPECT_NE(res.base, 0u);
  EXPECT_EQ(r.regs[3], r.regs[1] + p.vvar_size);
}

TEST(InjectStub, StopsAtTheFirstFailureWhenRun) {
  InjectStubParams p;
  StubRunReport r = run_in_child(true, false, &p);
  ASSERT_TRUE(r.ok);
  auto res = interpret_inject_stub(r.regs[0], r.regs[1], r.regs[2], r.regs[3], p);
  EXPECT_EQ(res.failed, InjectStubResult::Failed::kOpenVvar);
  EXPECT_EQ(res.error, -ENOENT);

  r = run_in_child(false, true, &p);
  ASSERT_TRUE(r.ok);
  res = interpret_inject_stub(r.regs[0], r.regs[1], r.regs[2], r.regs[3], p);
  EXPECT_EQ(res.failed, InjectStubResult::Failed::kOpenImage);
  EXPECT_EQ(res.error, -ENOENT);
  EXPECT_NE(res.base, 0u) << "the vvar span was mapped and must be reported for unmapping";
}

}  // namespace emulator
