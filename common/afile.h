/* Output files that are never seen half-written: a regular file is written under a temporary name
 * in its own folder, flushed to disk and renamed over the target, so a reader (or a kill -9, or a
 * full disk) leaves the old file or the whole new one. Anything that is not a regular file (a
 * device such as /dev/stdout or /dev/full, a pipe) is written in place: it cannot be renamed over,
 * and as root a rename would replace the device node itself. Internal; compiled into the library
 * (eval's leaderboard files) and into the tools' helper library. Needs no allocation of its own. */
#ifndef BERT_AFILE_H
#define BERT_AFILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct bert__afile {
    FILE *f;          /* write here */
    char path[4096];  /* the target */
    char tmp[4160];   /* the temporary file; "" when writing in place */
} bert__afile;

/* Creates the temporary file (or opens the target in place). Returns 0, or -1 with errno set and
 * "PATH: cannot create: REASON" in err. */
int bert__afile_open(bert__afile *a, const char *path, char *err, size_t err_size);
/* Flushes, checks every write, syncs and renames over the target; always closes. Returns 0, or -1
 * with "PATH: write error: REASON" in err and the temporary file removed (the target untouched). */
int bert__afile_commit(bert__afile *a, char *err, size_t err_size);
/* Closes and removes the temporary file, leaving the target as it was (in place: as written). */
void bert__afile_abort(bert__afile *a);
/* Whether a file could be created in the folder of path now: creates and removes a temporary file
 * there (so a long run does not end in "cannot create"). Returns 0, or -1 with err as _open's. */
int bert__afile_probe(const char *path, char *err, size_t err_size);

#endif
