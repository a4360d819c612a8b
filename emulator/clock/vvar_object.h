// The memory objects the injector maps into every tracee: the vvar (one shared, sealed memfd
// for the whole traced tree, writable only through the supervisor's own mapping) and the vDSO
// image (a sealed memfd mapped private), plus the seqlock write section for the vvar.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "vdso/vvar.h"

namespace emulator {

// A memfd holding one vdso::Vvar. Construction creates it, maps it read-write in this process,
// writes the header (magic, version; everything else zero, so readers ask the kernel), then
// seals it with F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL. From then on
// any other mapping of it can only be read: mmap(PROT_WRITE, MAP_SHARED) fails with EPERM and
// mprotect(PROT_WRITE) of a read-only shared mapping fails with EACCES (Linux >= 5.1), while
// the supervisor's mapping made before the seal stays writable. Throws std::system_error
// naming the call that failed.
class VvarObject {
 public:
  VvarObject();
  ~VvarObject();
  VvarObject(VvarObject&& other) noexcept;
  VvarObject& operator=(VvarObject&& other) noexcept;
  VvarObject(const VvarObject&) = delete;
  VvarObject& operator=(const VvarObject&) = delete;

  // The memfd (close-on-exec). A tracee maps it with
  //   mmap(X, kVvarSize, PROT_READ, MAP_SHARED | MAP_FIXED, fd_in_tracee, 0)
  // after obtaining its own descriptor, e.g. by opening proc_path() O_RDONLY.
  int fd() const { return fd_; }
  // "/proc/<this pid>/fd/<fd>": opening it gives a new descriptor of the same object.
  std::string proc_path() const;
  // The supervisor's writable mapping.
  vdso::Vvar* page() const { return page_; }
  static constexpr size_t size() { return vdso::kVvarSize; }

 private:
  void reset();
  int fd_ = -1;
  vdso::Vvar* page_ = nullptr;
};

// The vDSO image in a memfd, zero-padded to whole pages and fully sealed (F_SEAL_WRITE and
// friends): tracees map it with
//   mmap(X + kImageOffset, map_size(), PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0).
class ImageObject {
 public:
  explicit ImageObject(std::span<const uint8_t> image);
  ~ImageObject();
  ImageObject(ImageObject&& other) noexcept;
  ImageObject& operator=(ImageObject&& other) noexcept;
  ImageObject(const ImageObject&) = delete;
  ImageObject& operator=(const ImageObject&) = delete;

  int fd() const { return fd_; }
  std::string proc_path() const;
  size_t map_size() const { return map_size_; }

 private:
  int fd_ = -1;
  size_t map_size_ = 0;
};

// One seqlock write of the vvar: the constructor makes the counter odd and fences (a full
// fence, so the odd value is visible before the writer samples the TSC for its switch point);
// the destructor fences (release) and makes it even. Fields are written in between with
// vdso::vvar_store. There is one writer (the timekeeper thread).
class VvarWriteSection {
 public:
  explicit VvarWriteSection(vdso::Vvar* page);
  ~VvarWriteSection();
  VvarWriteSection(const VvarWriteSection&) = delete;
  VvarWriteSection& operator=(const VvarWriteSection&) = delete;

 private:
  vdso::Vvar* page_;
  uint64_t seq_;
};

}  // namespace emulator
