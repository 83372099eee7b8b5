#define _DEFAULT_SOURCE /* madvise, MAP_ANONYMOUS */
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

#include "common.h"

#ifdef BERT_TESTING
#include <stdatomic.h>
/* Fault injection for tests: fail_at counts down to the allocation that must fail. Atomic, because
 * the test build also runs the threaded tests (under ThreadSanitizer). */
static atomic_long fail_at = -1;
static atomic_long n_allocs = 0;

long bert__alloc_fail_after(long k)
{
    long n = atomic_exchange(&n_allocs, 0);
    atomic_store(&fail_at, k);
    return n;
}

static int should_fail(void)
{
    atomic_fetch_add(&n_allocs, 1);
    if (atomic_load(&fail_at) < 0)
        return 0;
    /* the thread that takes the count from 0 to -1 fails; others pass */
    long v = atomic_fetch_sub(&fail_at, 1);
    return v == 0;
}
#else
static int should_fail(void)
{
    return 0;
}
#endif

void *bert__malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *bert__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *bert__realloc(void *p, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(p, size ? size : 1);
}

void *bert__reallocarray(void *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return bert__realloc(p, count * size);
}

void bert__free(void *p)
{
    free(p);
}

char *bert__strndup(const char *s, size_t len)
{
    char *d = len < SIZE_MAX ? bert__malloc(len + 1) : NULL;
    if (!d)
        return NULL;
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

bert_status bert__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return BERT_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return BERT_E_NOMEM;
        n *= 2;
    }
    void *q = bert__reallocarray(*p, n, elem);
    if (!q)
        return BERT_E_NOMEM;
    *p = q;
    *cap = n;
    return BERT_OK;
}

void *bert__calloc_big(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    size_t bytes = count * size;
    if (bytes == 0)
        bytes = 1;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    /* advice only (failure leaves ordinary pages), and only where a 2 MiB page can fit: a small
     * buffer merged into a neighbouring mapping would otherwise make the kernel zero a whole huge
     * page for it (a small model's load spent a tenth of its time there) */
    if (bytes >= (size_t)2 << 20)
        madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

void bert__populate(void *p, size_t bytes)
{
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
    if (p && bytes)
        madvise(p, bytes, MADV_POPULATE_WRITE);
}

void bert__free_big(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes ? bytes : 1);
}
