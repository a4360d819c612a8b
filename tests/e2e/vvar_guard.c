// Tries every way a traced program has to write vdsorun's vvar page (or its vDSO image) and
// reports what each attempt did; the page's first bytes are compared before and after.
// Attempts: mprotect of the mapping to read-write; madvise(MADV_REMOVE); /proc/self/map_files
// reopened read-write (write, pwrite, writable shared mmap, hole punch, truncate) and read-only
// (writable shared mmap); a write through /proc/self/mem; process_vm_writev; and the supervisor's
// own descriptors reached through /proc/<vdsorun>/fd (vdsorun is this program's parent). Each line:
// `attempt what=... result=ok|<errno name>`; `ok` means the write went through.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "probe_support.h"

static const char* errno_name(int e) {
  switch (e) {
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case EIO:
      return "EIO";
    case EFAULT:
      return "EFAULT";
    case EINVAL:
      return "EINVAL";
    case EBADF:
      return "EBADF";
    case ENOENT:
      return "ENOENT";
    case ENODEV:
      return "ENODEV";
    case EROFS:
      return "EROFS";
    case ETXTBSY:
      return "ETXTBSY";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    default:
      return strerror(e);
  }
}

static void report(const char* what, int ok, int err) {
  emit("attempt what=%s result=%s", what, ok ? "ok" : errno_name(err));
}

// Finds the first mapping whose name starts with `prefix`; returns 0 if none.
static int find_mapping(const char* prefix, struct probe_mapping* out) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return 0;
  char line[512];
  int found = 0;
  while (!found && fgets(line, sizeof line, f) != NULL) {
    const char* name = strchr(line, '/');
    if (name == NULL || strncmp(name, prefix, strlen(prefix)) != 0) continue;
    unsigned long start, end;
    if (sscanf(line, "%lx-%lx %7s", &start, &end, out->perms) != 3) continue;
    out->start = start;
    out->end = end;
    snprintf(out->name, sizeof out->name, "%s", name);
    out->name[strcspn(out->name, "\n")] = '\0';
    found = 1;
  }
  fclose(f);
  return found;
}

// The writes an open descriptor of a memfd allows, each reported as `<label>_<what>`.
static void try_writes_through_fd(const char* label, int fd, size_t size) {
  char what[128];
  unsigned char byte = 0;
  if (pread(fd, &byte, 1, 0) != 1) byte = 0;

  errno = 0;
  ssize_t n = pwrite(fd, &byte, 1, 0);
  snprintf(what, sizeof what, "%s_pwrite", label);
  report(what, n == 1, errno);

  errno = 0;
  void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  snprintf(what, sizeof what, "%s_mmap_shared_write", label);
  report(what, p != MAP_FAILED, errno);
  if (p != MAP_FAILED) munmap(p, size);

  errno = 0;
  int rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)size);
  snprintf(what, sizeof what, "%s_punch_hole", label);
  report(what, rc == 0, errno);

  errno = 0;
  rc = ftruncate(fd, 0);
  snprintf(what, sizeof what, "%s_truncate", label);
  report(what, rc == 0, errno);
}

// vdsorun's own descriptors of its memfds, as another process (this one) can reach them.
static void try_supervisor_fds(pid_t supervisor) {
  char dir_path[64];
  snprintf(dir_path, sizeof dir_path, "/proc/%d/fd", (int)supervisor);
  DIR* d = opendir(dir_path);
  if (d == NULL) {
    emit("supervisor_fds error=%s", errno_name(errno));
    return;
  }
  int seen = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[512], target[256];
    snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
    const ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    const char* label = NULL;
    if (strncmp(target, "/memfd:vdsorun-vvar", 19) == 0) label = "supervisor_vvar";
    if (strncmp(target, "/memfd:vdsorun-vdso", 19) == 0) label = "supervisor_image";
    if (label == NULL) continue;
    ++seen;
    char what[128];
    errno = 0;
    const int fd = open(path, O_RDWR | O_CLOEXEC);
    snprintf(what, sizeof what, "%s_open_rdwr", label);
    report(what, fd >= 0, errno);
    if (fd >= 0) {
      try_writes_through_fd(label, fd, 4096);
      close(fd);
    }
  }
  closedir(d);
  emit("supervisor_fds pid=%d memfds=%d", (int)supervisor, seen);
}

int main(void) {
  struct probe_mapping vvar, image;
  if (!find_mapping("/memfd:vdsorun-vvar", &vvar) || !find_mapping("/memfd:vdsorun-vdso", &image)) {
    emit("error no_vdsorun_mappings");
    return 1;
  }
  const size_t size = vvar.end - vvar.start;
  emit("vvar perms=%s size=%zu image_perms=%s adjacent=%d", vvar.perms, size, image.perms,
       vvar.end == image.start);
  unsigned char before[64];
  memcpy(before, (const void*)vvar.start, sizeof before);

  errno = 0;
  int rc = mprotect((void*)vvar.start, size, PROT_READ | PROT_WRITE);
  report("mprotect_read_write", rc == 0, errno);
  errno = 0;
  rc = mprotect((void*)vvar.start, size, PROT_READ | PROT_WRITE | PROT_EXEC);
  report("mprotect_read_write_exec", rc == 0, errno);

  // MADV_REMOVE frees the backing pages (the next read sees zeros): shared + writable only.
  errno = 0;
  rc = madvise((void*)vvar.start, size, MADV_REMOVE);
  report("madvise_remove", rc == 0, errno);

  char map_files[128];
  snprintf(map_files, sizeof map_files, "/proc/self/map_files/%lx-%lx", (unsigned long)vvar.start,
           (unsigned long)vvar.end);
  errno = 0;
  int fd = open(map_files, O_RDWR | O_CLOEXEC);
  report("map_files_open_rdwr", fd >= 0, errno);
  if (fd >= 0) {
    try_writes_through_fd("map_files_rdwr", fd, size);
    close(fd);
  }
  errno = 0;
  fd = open(map_files, O_RDONLY | O_CLOEXEC);
  report("map_files_open_rdonly", fd >= 0, errno);
  if (fd >= 0) {
    errno = 0;
    void* p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    report("map_files_rdonly_mmap_shared_write", p != MAP_FAILED, errno);
    if (p != MAP_FAILED) munmap(p, size);
    close(fd);
  }

  // /proc/self/mem writes with FOLL_FORCE, which can write read-only private mappings; a shared
  // one without VM_MAYWRITE must still refuse. The byte written is the one already there.
  errno = 0;
  fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    const ssize_t n = pwrite(fd, before + 8, 1, (off_t)(vvar.start + 8));
    report("proc_self_mem_write", n == 1, errno);
    close(fd);
  } else {
    report("proc_self_mem_open", 0, errno);
  }

  struct iovec local = {before + 8, 1};
  struct iovec remote = {(void*)(vvar.start + 8), 1};
  errno = 0;
  const ssize_t n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
  report("process_vm_writev", n == 1, errno);

  try_supervisor_fds(getppid());

  const int unchanged = memcmp(before, (const void*)vvar.start, 8) == 0 &&
                        memcmp(before + 16, (const void*)(vvar.start + 16), 48) == 0;
  emit("vvar header_unchanged=%d", unchanged);
  return 0;
}
