// The vvar and image memfds and the vvar seqlock write section.
#include "emulator/clock/vvar_object.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "vdso/image.h"

namespace emulator {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Closes a descriptor on every exit path until released.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string fd_path(int fd) {
  return "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd);
}

}  // namespace

VvarObject::VvarObject() {
  const int fd = ::memfd_create("vdsorun-vvar", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw_errno("memfd_create(vdsorun-vvar)");
  FdGuard guard(fd);
  if (::ftruncate(fd, vdso::kVvarSize) != 0) throw_errno("ftruncate(vvar memfd)");
  void* map = ::mmap(nullptr, vdso::kVvarSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) throw_errno("mmap(vvar memfd, PROT_READ|PROT_WRITE)");
  page_ = static_cast<vdso::Vvar*>(map);
  vdso::vvar_store(page_->magic, vdso::kVvarMagic);
  vdso::vvar_store(page_->version, vdso::kVvarVersion);
  // F_SEAL_FUTURE_WRITE keeps this mapping writable but refuses every later writable one.
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) !=
      0) {
    const int err = errno;
    ::munmap(map, vdso::kVvarSize);
    page_ = nullptr;
    throw std::system_error(err, std::generic_category(),
                            "fcntl(vvar memfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE...)");
  }
  fd_ = guard.release();
}

VvarObject::~VvarObject() {
  reset();
}

VvarObject::VvarObject(VvarObject&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), page_(std::exchange(other.page_, nullptr)) {}

VvarObject& VvarObject::operator=(VvarObject&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    page_ = std::exchange(other.page_, nullptr);
  }
  return *this;
}

void VvarObject::reset() {
  if (page_ != nullptr) ::munmap(page_, vdso::kVvarSize);
  if (fd_ >= 0) ::close(fd_);
  page_ = nullptr;
  fd_ = -1;
}

std::string VvarObject::proc_path() const {
  return fd_path(fd_);
}

ImageObject::ImageObject(std::span<const uint8_t> image)
    : map_size_(vdso::page_round_up(image.size())) {
  const int fd = ::memfd_create("vdsorun-vdso", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw_errno("memfd_create(vdsorun-vdso)");
  FdGuard guard(fd);
  if (::ftruncate(fd, static_cast<off_t>(map_size_)) != 0) throw_errno("ftruncate(vdso memfd)");
  size_t done = 0;
  while (done < image.size()) {
    const ssize_t n =
        ::pwrite(fd, image.data() + done, image.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("pwrite(vdso memfd)");
    done += static_cast<size_t>(n);
  }
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    throw_errno("fcntl(vdso memfd, F_ADD_SEALS, F_SEAL_WRITE...)");
  }
  fd_ = guard.release();
}

ImageObject::~ImageObject() {
  if (fd_ >= 0) ::close(fd_);
}

ImageObject::ImageObject(ImageObject&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), map_size_(other.map_size_) {}

ImageObject& ImageObject::operator=(ImageObject&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    map_size_ = other.map_size_;
  }
  return *this;
}

std::string ImageObject::proc_path() const {
  return fd_path(fd_);
}

VvarWriteSection::VvarWriteSection(vdso::Vvar* page)
    : page_(page), seq_(__atomic_load_n(&page->seq, __ATOMIC_RELAXED)) {
  __atomic_store_n(&page_->seq, seq_ + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

VvarWriteSection::~VvarWriteSection() {
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_store_n(&page_->seq, seq_ + 2, __ATOMIC_RELAXED);
}

}  // namespace emulator
