// The other threads of a process, stopped for a scope (Engine::stop_other_threads) and
// resumed when it ends: one type for every place that borrows code bytes of a multi-threaded
// program or rewrites its code.
#pragma once

#include <functional>
#include <utility>

namespace emulator {

class OthersStopped {
 public:
  // `resume` puts the threads back as they were; called once, at the end of the scope.
  explicit OthersStopped(std::function<void()> resume) : resume_(std::move(resume)) {}
  ~OthersStopped() {
    if (resume_) resume_();
  }
  OthersStopped(OthersStopped&& other) noexcept : resume_(std::exchange(other.resume_, nullptr)) {}
  OthersStopped(const OthersStopped&) = delete;
  OthersStopped& operator=(const OthersStopped&) = delete;
  OthersStopped& operator=(OthersStopped&&) = delete;

 private:
  std::function<void()> resume_;
};

}  // namespace emulator
