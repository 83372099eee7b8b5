/* Shared plumbing for every libbert module: the allocation funnel, error buffers, logging and file
 * reading. Internal; never installed. Symbols shared between files are bert__*. */
#ifndef BERT_COMMON_H
#define BERT_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <bert/log.h>
#include <bert/status.h>

#if defined(__GNUC__)
#define BERT__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BERT__PRINTF(fmt, args)
#endif

/* ---- allocation funnel (common/alloc.c) ----
 * Every library allocation goes through here, so that sizes that would overflow are refused and
 * tests can make the N-th allocation fail. */
void *bert__malloc(size_t size);
void *bert__calloc(size_t count, size_t size);
void *bert__realloc(void *p, size_t size);
/* realloc to count * size, refusing products that overflow. */
void *bert__reallocarray(void *p, size_t count, size_t size);
void bert__free(void *p);
/* Zeroed memory for large, long-lived blocks (model weights): 2 MB aligned and backed by huge pages
 * where the kernel allows it, which cuts page faults by 512x. Release with bert__free_big. */
void *bert__calloc_big(size_t count, size_t size);
void bert__free_big(void *p, size_t bytes);
/* Faults a bert__calloc_big block in with one call (advice: nothing happens on old kernels). In a
 * VM every page fault is an exit to the hypervisor: one call instead of one fault per page (or per
 * 2 MiB) is much cheaper. */
void bert__populate(void *p, size_t bytes);

/* 1 where our own OpenMP regions may run in parallel (their `if` clauses use it). ThreadSanitizer
 * cannot see libgomp's barriers (libgomp is not instrumented) and reports every reuse of data
 * across regions as a race: under TSan our regions run on the calling thread, so what it checks
 * is what it is there for, threads sharing a model, each with its own ctx. */
#if defined(__SANITIZE_THREAD__)
#define BERT__OMP_PARALLEL 0
#else
#define BERT__OMP_PARALLEL 1
#endif
char *bert__strndup(const char *s, size_t len);
#ifdef BERT_TESTING
/* Makes the k-th allocation from now fail (k = 0: the next one); a negative k turns failures off.
 * Returns how many allocations happened since the last call. Not thread-safe: tests only. */
BERT_API long bert__alloc_fail_after(long k);
#endif

/* ---- error buffers (common/status.c) ----
 * Formats a message into errbuf (which may be NULL) and returns st, so that a failure site reads
 * `return bert__errbuf_set(errbuf, size, BERT_E_IO, "%s: ...", path);`. */
bert_status bert__errbuf_set(char *errbuf, size_t errbuf_size, bert_status st, const char *fmt, ...)
    BERT__PRINTF(4, 5);
bert_status bert__errbuf_vset(char *errbuf, size_t errbuf_size, bert_status st, const char *fmt, va_list ap)
    BERT__PRINTF(4, 0);

/* ---- logging (common/log.c) ---- */
void bert__log(bert_log_level level, const char *fmt, ...) BERT__PRINTF(2, 3);

/* ---- files (common/file.c) ----
 * Reads a whole file into a new buffer (NUL-terminated for convenience; *len excludes the NUL).
 * Free with bert__free. Errors name the path and the system's reason. */
bert_status bert__read_file(const char *path, char **data, size_t *len, char *errbuf, size_t errbuf_size);
/* Joins dir and name with '/'; NULL on allocation failure. */
char *bert__path_join(const char *dir, const char *name);

/* ---- growable arrays ----
 * Grows *p (of *cap elements of elem bytes) to hold at least need elements; geometric growth. */
bert_status bert__grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
