// A thread of vdsorun's own with a stack size vdsorun chooses. std::jthread takes glibc's
// default, which is sized from RLIMIT_STACK at start-up: under `ulimit -s 16` that is 16 KiB,
// too little for the timekeeper. The program's limit is the program's business, not ours.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <stop_token>

namespace emulator {

class OwnThread {
 public:
  // Enough for vdsorun's helper threads (they keep big buffers on the heap), whatever
  // RLIMIT_STACK says.
  static constexpr size_t kStackSize = 1 << 20;

  OwnThread() = default;
  OwnThread(const OwnThread&) = delete;
  OwnThread& operator=(const OwnThread&) = delete;
  OwnThread(OwnThread&&) = delete;
  OwnThread& operator=(OwnThread&&) = delete;
  // Requests a stop and joins.
  ~OwnThread();

  // Starts body(stop_token) on a new thread with a stack of `stack_size` bytes (once); throws
  // std::system_error if it cannot.
  void start(std::function<void(std::stop_token)> body, size_t stack_size = kStackSize);
  void request_stop() { stop_.request_stop(); }
  // Waits for the body to return (once; later calls do nothing).
  void join();

 private:
  static void* trampoline(void* self);

  std::stop_source stop_;
  std::function<void(std::stop_token)> body_;
  pthread_t thread_{};
  bool joinable_ = false;
};

}  // namespace emulator
