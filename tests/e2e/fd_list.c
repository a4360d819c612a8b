// Lists this program's open descriptors, one `fd N target` line each, with pipe, socket and
// anonymous-inode numbers blanked so that two runs compare equal. The descriptor of the
// listing itself is left out. Run with and without vdsorun: the two lists must be the same.
#define _GNU_SOURCE
#include <dirent.h>
#include <stdlib.h>

#include "probe_support.h"

static int by_number(const struct dirent** a, const struct dirent** b) {
  return atoi((*a)->d_name) - atoi((*b)->d_name);
}

static int not_dot(const struct dirent* e) {
  return e->d_name[0] != '.';
}

int main(void) {
  DIR* d = opendir("/proc/self/fd");
  if (d == NULL) return 1;
  const int own = dirfd(d);
  struct dirent** entries = NULL;
  const int n = scandir("/proc/self/fd", &entries, not_dot, by_number);
  closedir(d);
  if (n < 0) return 1;
  for (int i = 0; i < n; ++i) {
    const int fd = atoi(entries[i]->d_name);
    char path[64], target[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const ssize_t len = readlink(path, target, sizeof target - 1);
    // scandir's own descriptor is gone by now; opendir's was `own`.
    if (fd != own && len > 0) {
      target[len] = '\0';
      char* bracket = strchr(target, '[');
      if (bracket != NULL &&
          (strncmp(target, "pipe:", 5) == 0 || strncmp(target, "socket:", 7) == 0 ||
           strncmp(target, "anon_inode:", 11) == 0)) {
        strcpy(bracket, "[]");
      }
      emit("fd %d %s", fd, target);
    }
    free(entries[i]);
  }
  free(entries);
  emit("fd_list done");
  return 0;
}
