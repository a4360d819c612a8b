// vdsorun -p: SIGINT, SIGTERM and SIGHUP sent to vdsorun ask it to detach and exit (they are
// not passed on: the program is not vdsorun's child). The engine thread waits in waitpid(),
// which a handler cannot end by itself, so the request also starts a timer that interrupts
// that thread (SIGURG, no SA_RESTART) every few milliseconds until vdsorun exits.
#pragma once

#include <atomic>

namespace cli {

class DetachSignals {
 public:
  // Call on the engine thread: it is the one the timer interrupts.
  DetachSignals();
  // Stops the timer and restores the dispositions.
  ~DetachSignals();
  DetachSignals(const DetachSignals&) = delete;
  DetachSignals& operator=(const DetachSignals&) = delete;

  // 0 until a detach is requested, then the signal that asked.
  const std::atomic<int>& requested() const;
  // Stops interrupting the engine thread (the engine has returned).
  void stop_timer();
};

}  // namespace cli
