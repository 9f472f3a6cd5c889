/*
 * kill-at-write: an LD_PRELOAD library for crash tests of whole processes.
 *
 * Every positional write the process makes (pwrite, pwrite64, pwritev, pwritev64, pwritev2,
 * pwritev64v2), from any of its threads, takes the next number of one process-wide counter.
 * With VHDX_KILL_AT_WRITE=N the process sends itself SIGKILL when write number N is about to be
 * made: writes 1 … N-1 have reached the kernel, write N and everything after never happen, and
 * nothing of the process runs afterwards (no exit handler, no flush), as when the power is cut.
 * Unset or 0: no write is stopped.
 * With VHDX_WRITE_COUNT_FILE=PATH the number of positional writes made is written to PATH when the
 * process exits normally, so a test can try every N from 1 to that count.
 * With VHDX_WRITE_TRACE_FILE=PATH (an existing file, appended to) each positional write adds a line
 * "w NUMBER FD OFFSET LENGTH PID" and each fsync/fdatasync a line "f FD PID", so a test can tell
 * which kinds of writes the run makes and pick its kill points among them (test/helpers/crash.ts).
 *
 * One counter for all threads matters for Node: its file writes run on several libuv threads, so
 * a per-thread count (strace's inject=…:when=N) would not name "the Nth write of the run".
 *
 * Built by test/helpers/crash.ts: gcc -shared -fPIC -O2 -o kill-at-write.so kill-at-write.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long kill_at;        /* 0: never */
static long writes_made;    /* updated atomically */
static const char *count_path;
static int trace_fd = -1;   /* VHDX_WRITE_TRACE_FILE, opened for appending */

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, off_t, int);
typedef int (*sync_fn)(int);

static pwrite_fn next_pwrite, next_pwrite64;
static pwritev_fn next_pwritev, next_pwritev64;
static pwritev2_fn next_pwritev2, next_pwritev64v2;
static sync_fn next_fsync, next_fdatasync;

/* Runs when the library is loaded, before the program's main and before any thread it starts. */
__attribute__((constructor)) static void setup(void) {
  const char *n = getenv("VHDX_KILL_AT_WRITE");
  kill_at = n ? strtol(n, NULL, 10) : 0;
  if (kill_at < 0) kill_at = 0;
  count_path = getenv("VHDX_WRITE_COUNT_FILE");
  next_pwrite = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
  next_pwrite64 = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
  next_pwritev = (pwritev_fn)dlsym(RTLD_NEXT, "pwritev");
  next_pwritev64 = (pwritev_fn)dlsym(RTLD_NEXT, "pwritev64");
  next_pwritev2 = (pwritev2_fn)dlsym(RTLD_NEXT, "pwritev2");
  next_pwritev64v2 = (pwritev2_fn)dlsym(RTLD_NEXT, "pwritev64v2");
  next_fsync = (sync_fn)dlsym(RTLD_NEXT, "fsync");
  next_fdatasync = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
  const char *t = getenv("VHDX_WRITE_TRACE_FILE");
  /* Appended to, never truncated: a child process started with the same environment adds its own lines. */
  if (t) trace_fd = open(t, O_WRONLY | O_APPEND | O_CLOEXEC);
}

/* One line to the trace, in a single write(2) (O_APPEND keeps threads' lines whole). */
static void trace(const char *line, int len) {
  if (trace_fd < 0 || len <= 0) return;
  if (write(trace_fd, line, (size_t)len) != len) { /* the test sees a short trace and says so */ }
}

__attribute__((destructor)) static void report(void) {
  if (!count_path) return;
  char line[32];
  int len = snprintf(line, sizeof line, "%ld\n", __atomic_load_n(&writes_made, __ATOMIC_SEQ_CST));
  int fd = open(count_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  if (write(fd, line, (size_t)len) != len) { /* the test sees a short file and says so */ }
  close(fd);
}

/* Numbers this write; stops the whole process before the write numbered kill_at. */
static void before_write(int fd, size_t length, off_t offset) {
  long number = __atomic_add_fetch(&writes_made, 1, __ATOMIC_SEQ_CST);
  if (kill_at != 0 && number == kill_at) {
    kill(getpid(), SIGKILL);
    for (;;) pause(); /* SIGKILL cannot be caught; never return into the write */
  }
  if (trace_fd >= 0) {
    char line[96];
    int len = snprintf(line, sizeof line, "w %ld %d %lld %zu %d\n", number, fd, (long long)offset, length,
                       (int)getpid());
    trace(line, len);
  }
}

static size_t iov_length(const struct iovec *iov, int iovcnt) {
  size_t n = 0;
  for (int i = 0; i < iovcnt; i++) n += iov[i].iov_len;
  return n;
}

static void before_sync(int fd) {
  if (trace_fd < 0) return;
  char line[48];
  int len = snprintf(line, sizeof line, "f %d %d\n", fd, (int)getpid());
  trace(line, len);
}

int fsync(int fd) {
  before_sync(fd);
  return next_fsync(fd);
}

int fdatasync(int fd) {
  before_sync(fd);
  return next_fdatasync(fd);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
  before_write(fd, count, offset);
  return next_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) {
  before_write(fd, count, offset);
  return next_pwrite64(fd, buf, count, offset);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
  before_write(fd, iov_length(iov, iovcnt), offset);
  return next_pwritev(fd, iov, iovcnt, offset);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
  before_write(fd, iov_length(iov, iovcnt), offset);
  return next_pwritev64(fd, iov, iovcnt, offset);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags) {
  before_write(fd, iov_length(iov, iovcnt), offset);
  return next_pwritev2(fd, iov, iovcnt, offset, flags);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags) {
  before_write(fd, iov_length(iov, iovcnt), offset);
  return next_pwritev64v2(fd, iov, iovcnt, offset, flags);
}
