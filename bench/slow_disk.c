/* A slow disk for benchmarks (Linux, LD_PRELOAD): every write to a database file waits
 * SLOW_DISK_WRITE_MS (default 4) and every fsync/fdatasync of one waits SLOW_DISK_SYNC_MS (default 120),
 * in whatever thread makes the call, as a spinning disk, a network home folder or an antivirus would.
 * A file counts as a database file when its path contains SLOW_DISK_MATCH (default ".sqlite3"). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static long write_ms = -1, sync_ms = -1;
static const char *match = NULL;

static void init(void) {
    if (write_ms >= 0) return;
    const char *w = getenv("SLOW_DISK_WRITE_MS"), *s = getenv("SLOW_DISK_SYNC_MS");
    match = getenv("SLOW_DISK_MATCH");
    if (!match || !*match) match = ".sqlite3";
    sync_ms = s ? atol(s) : 120;
    write_ms = w ? atol(w) : 4;
}

static int is_db(int fd) {
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return strstr(path, match) != NULL;
}

static void wait_ms(long ms) {
    if (ms <= 0) return;
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    int saved = errno;
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {}
    errno = saved;
}

#define SLOW(kind, fd) do { init(); if (is_db(fd)) wait_ms(kind##_ms); } while (0)
#define REAL(name, type) static type real = NULL; if (!real) real = (type)dlsym(RTLD_NEXT, name)

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*sync_fn)(int);

ssize_t write(int fd, const void *buf, size_t count) {
    REAL("write", write_fn);
    SLOW(write, fd);
    return real(fd, buf, count);
}
ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    REAL("pwrite", pwrite_fn);
    SLOW(write, fd);
    return real(fd, buf, count, offset);
}
ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
    REAL("pwrite64", pwrite64_fn);
    SLOW(write, fd);
    return real(fd, buf, count, offset);
}
ssize_t writev(int fd, const struct iovec *iov, int n) {
    REAL("writev", writev_fn);
    SLOW(write, fd);
    return real(fd, iov, n);
}
int fsync(int fd) {
    REAL("fsync", sync_fn);
    SLOW(sync, fd);
    return real(fd);
}
int fdatasync(int fd) {
    REAL("fdatasync", sync_fn);
    SLOW(sync, fd);
    return real(fd);
}
