// OwnThread: pthread_create with an explicit stack size.
#include "emulator/own_thread.h"

#include <system_error>

namespace emulator {

void OwnThread::start(std::function<void(std::stop_token)> body, size_t stack_size) {
  body_ = std::move(body);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  int err = pthread_attr_setstacksize(&attr, stack_size);
  if (err == 0) err = pthread_create(&thread_, &attr, &OwnThread::trampoline, this);
  pthread_attr_destroy(&attr);
  if (err != 0) throw std::system_error(err, std::generic_category(), "pthread_create");
  joinable_ = true;
}

OwnThread::~OwnThread() {
  request_stop();
  join();
}

void OwnThread::join() {
  if (!joinable_) return;
  pthread_join(thread_, nullptr);
  joinable_ = false;
}

void* OwnThread::trampoline(void* self) {
  auto* t = static_cast<OwnThread*>(self);
  t->body_(t->stop_.get_token());
  return nullptr;
}

}  // namespace emulator
