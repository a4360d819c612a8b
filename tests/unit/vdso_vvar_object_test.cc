// Tests the vvar and image memfds: sealed so that a tracee (here a forked child reopening the
// object through /proc, as a tracee would) can map the vvar only read-only and never make it
// writable, while the supervisor's mapping stays writable and visible to readers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "emulator/clock/vvar_object.h"
#include "vdso/image.h"
#include "vdso/vvar.h"

namespace emulator {
namespace {

// Runs `child` in a forked process (which may only make syscalls) and returns its exit code.
template <typename F>
int in_child(F child) {
  const pid_t pid = fork();
  if (pid == 0) _exit(child());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(VvarObject, IsSealedAndInitialised) {
  VvarObject v;
  EXPECT_EQ(fcntl(v.fd(), F_GET_SEALS),
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
  EXPECT_EQ(v.page()->magic, vdso::kVvarMagic);
  EXPECT_EQ(v.page()->version, vdso::kVvarVersion);
  EXPECT_EQ(v.page()->flags, 0u);  // nothing valid until a timekeeper says so
  EXPECT_NE(fcntl(v.fd(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(lseek(v.fd(), 0, SEEK_END), static_cast<off_t>(vdso::kVvarSize));
}

TEST(VvarObject, TraceeMappingCannotBecomeWritable) {
  VvarObject v;
  const std::string path = v.proc_path();
  const char* p = path.c_str();
  const int code = in_child([p] {
    const int ro = open(p, O_RDONLY | O_CLOEXEC);
    if (ro < 0) return 1;
    void* m = mmap(nullptr, vdso::kVvarSize, PROT_READ, MAP_SHARED, ro, 0);
    if (m == MAP_FAILED) return 2;
    if (mprotect(m, vdso::kVvarSize, PROT_READ | PROT_WRITE) == 0) return 3;
    if (errno != EACCES) return 4;
    // Even through a read-write descriptor, no shared writable mapping and no write.
    const int rw = open(p, O_RDWR | O_CLOEXEC);
    if (rw < 0) return 5;
    if (mmap(nullptr, vdso::kVvarSize, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0) != MAP_FAILED ||
        errno != EPERM) {
      return 6;
    }
    const char byte = 1;
    if (pwrite(rw, &byte, 1, 0) >= 0 || errno != EPERM) return 7;
    if (ftruncate(rw, 0) == 0 || ftruncate(rw, 2 * vdso::kVvarSize) == 0) return 8;
    if (fallocate(rw, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, vdso::kVvarSize) == 0) {
      return 9;
    }
    if (fcntl(rw, F_ADD_SEALS, F_SEAL_WRITE) == 0) return 10;  // F_SEAL_SEAL
    return 0;
  });
  EXPECT_EQ(code, 0) << "step " << code << " of the tracee-side checks failed";
}

TEST(VvarObject, SupervisorWritesReachReadOnlyMappings) {
  VvarObject v;
  const std::string path = v.proc_path();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto* ro =
      static_cast<const vdso::Vvar*>(mmap(nullptr, vdso::kVvarSize, PROT_READ, MAP_SHARED, fd, 0));
  close(fd);
  ASSERT_NE(ro, MAP_FAILED);
  vdso::vvar_store(v.page()->max_delta_cycles, uint64_t{0x1234});
  const int code = in_child([ro, &v] {
    if (vdso::vvar_load(ro->max_delta_cycles) != 0x1234) return 1;
    // The parent's later write reaches the child's shared read-only view too.
    vdso::vvar_store(v.page()->tz_dsttime, 5);
    return vdso::vvar_load(ro->tz_dsttime) == 5 ? 0 : 2;
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(ro->tz_dsttime, 5);
  munmap(const_cast<vdso::Vvar*>(ro), vdso::kVvarSize);
}

TEST(VvarObject, PrivateWritableMappingDoesNotReachOthers) {
  VvarObject v;
  void* m = mmap(nullptr, vdso::kVvarSize, PROT_READ | PROT_WRITE, MAP_PRIVATE, v.fd(), 0);
  ASSERT_NE(m, MAP_FAILED);
  static_cast<vdso::Vvar*>(m)->flags = 0xdead;
  EXPECT_EQ(v.page()->flags, 0u);
  munmap(m, vdso::kVvarSize);
}

TEST(VvarObject, MovesOwnership) {
  VvarObject a;
  const int fd = a.fd();
  VvarObject b(std::move(a));
  EXPECT_EQ(b.fd(), fd);
  EXPECT_EQ(a.fd(), -1);
  EXPECT_EQ(a.page(), nullptr);
  a = std::move(b);
  EXPECT_EQ(a.fd(), fd);
}

TEST(ImageObject, HoldsTheImageFullySealed) {
  ImageObject img(vdso::image());
  EXPECT_EQ(img.map_size(), vdso::image_map_size());
  EXPECT_EQ(fcntl(img.fd(), F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  void* m = mmap(nullptr, img.map_size(), PROT_READ | PROT_EXEC, MAP_PRIVATE, img.fd(), 0);
  ASSERT_NE(m, MAP_FAILED);
  EXPECT_EQ(std::memcmp(m, vdso::image().data(), vdso::image().size()), 0);
  const auto* bytes = static_cast<const uint8_t*>(m);
  for (size_t i = vdso::image().size(); i < img.map_size(); ++i) ASSERT_EQ(bytes[i], 0) << i;
  munmap(m, img.map_size());
  EXPECT_EQ(mmap(nullptr, img.map_size(), PROT_READ | PROT_WRITE, MAP_SHARED, img.fd(), 0),
            MAP_FAILED);
}

}  // namespace
}  // namespace emulator
