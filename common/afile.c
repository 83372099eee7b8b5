#define _POSIX_C_SOURCE 200809L
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint afile_counter;

/* Whether path exists and is something other than a regular file (0: no; 1: yes; EISDIR set and
 * -1 for a folder). */
static int special(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode))
        return 0;
    if (S_ISDIR(sb.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    return 1;
}

/* A new temporary file beside path, name in tmp: its descriptor, or -1 with errno. */
static int open_tmp(const char *path, char *tmp, size_t tmp_size)
{
    for (int tries = 0; tries < 100; tries++) {
        snprintf(tmp, tmp_size, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&afile_counter, 1));
        /* 0666 under the umask, as fopen would create the target */
        const int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

int bert__afile_open(bert__afile *a, const char *path, char *err, size_t err_size)
{
    memset(a, 0, sizeof *a);
    int e = 0;
    if (strlen(path) + 32 >= sizeof a->path) {
        snprintf(err, err_size, "%.200s...: cannot create: %s", path, strerror(ENAMETOOLONG));
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(a->path, path);
    const int sp = special(path);
    if (sp < 0) {
        e = errno;
    } else if (sp == 0) {
        const int fd = open_tmp(path, a->tmp, sizeof a->tmp);
        if (fd >= 0) {
            if ((a->f = fdopen(fd, "w")) != NULL)
                return 0;
            e = errno;
            close(fd);
            unlink(a->tmp);
        } else {
            e = errno;
        }
        a->tmp[0] = '\0';
    }
    /* a device or a pipe; or a folder we may not write in, holding a target we may: in place */
    if (sp > 0 || (sp == 0 && access(path, W_OK) == 0)) {
        if ((a->f = fopen(path, "w")) != NULL)
            return 0;
        e = errno;
    }
    snprintf(err, err_size, "%s: cannot create: %s", path, strerror(e));
    errno = e;
    return -1;
}

int bert__afile_commit(bert__afile *a, char *err, size_t err_size)
{
    int e = 0;
    errno = 0;
    if (fflush(a->f) != 0 || ferror(a->f))
        e = errno ? errno : EIO;
    /* on disk before the rename makes it visible: a crash then leaves the old file or the new */
    if (!e && a->tmp[0] && fsync(fileno(a->f)) != 0)
        e = errno;
    if (fclose(a->f) != 0 && !e)
        e = errno ? errno : EIO;
    a->f = NULL;
    if (!e && a->tmp[0] && rename(a->tmp, a->path) != 0)
        e = errno;
    if (e) {
        if (a->tmp[0])
            unlink(a->tmp);
        snprintf(err, err_size, "%s: write error: %s", a->path, strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}

void bert__afile_abort(bert__afile *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    if (a->tmp[0])
        unlink(a->tmp);
}

int bert__afile_probe(const char *path, char *err, size_t err_size)
{
    char tmp[4160];
    int e = 0;
    const int sp = special(path);
    if (sp < 0) {
        e = errno;
    } else if (sp > 0) {
        /* a device or a pipe is not opened here: a FIFO's open would wait for its reader */
        if (access(path, W_OK) != 0)
            e = errno;
    } else if (strlen(path) + 32 >= sizeof tmp) {
        e = ENAMETOOLONG;
    } else {
        const int fd = open_tmp(path, tmp, sizeof tmp);
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        } else {
            e = errno; /* why the folder refused; the target may still be writable in place */
            if (access(path, W_OK) == 0)
                e = 0;
        }
    }
    if (e) {
        snprintf(err, err_size, "%s: cannot create: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}
