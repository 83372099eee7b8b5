/* SentencePiece's precompiled_charsmap (the Precompiled normalizer): a darts-clone double-array
 * trie of UTF-8 keys whose values index NUL-terminated replacements. Layout: the trie's size in
 * bytes (u32, little-endian), the trie's 32-bit units, then the replacement strings. */
#include <string.h>

#include "pipe.h"

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bert_status bert__precompiled_parse(bert__precompiled *pc, const unsigned char *blob, size_t n, char *err,
                                    size_t err_size)
{
    memset(pc, 0, sizeof *pc);
    if (n < 4)
        return bert__errbuf_set(err, err_size, BERT_E_FORMAT, "precompiled_charsmap: %zu bytes, too short", n);
    uint32_t tsize = rd32(blob);
    if (tsize % 4 || tsize > n - 4 || tsize == 0)
        return bert__errbuf_set(err, err_size, BERT_E_FORMAT,
                                "precompiled_charsmap: trie size %u does not fit the %zu bytes", (unsigned)tsize, n);
    pc->n_units = tsize / 4;
    pc->trie = bert__malloc(tsize);
    pc->norm_len = n - 4 - tsize;
    pc->norm = bert__malloc(pc->norm_len + 1);
    if (!pc->trie || !pc->norm)
        return bert__errbuf_set(err, err_size, BERT_E_NOMEM, "precompiled_charsmap: allocating %zu bytes", n);
    for (size_t i = 0; i < pc->n_units; i++)
        pc->trie[i] = rd32(blob + 4 + 4 * i);
    memcpy(pc->norm, blob + 4 + tsize, pc->norm_len);
    pc->norm[pc->norm_len] = '\0';
    return BERT_OK;
}

#define UNIT_HAS_LEAF(u) (((u) >> 8) & 1)
#define UNIT_VALUE(u)    ((u)&0x7FFFFFFFu)
#define UNIT_LABEL(u)    ((u) & (0x80000000u | 0xFFu))
#define UNIT_OFFSET(u)   (((u) >> 10) << (((u) & (1u << 9)) >> 6))

const char *bert__precompiled_find(const bert__precompiled *pc, const char *s, size_t n, size_t *out_len)
{
    if (!pc->n_units)
        return NULL;
    size_t pos = UNIT_OFFSET(pc->trie[0]);
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c == 0)
            return NULL;
        pos ^= c;
        if (pos >= pc->n_units)
            return NULL;
        const uint32_t u = pc->trie[pos];
        if (UNIT_LABEL(u) != c)
            return NULL;
        pos ^= UNIT_OFFSET(u);
        if (pos >= pc->n_units)
            return NULL;
        if (UNIT_HAS_LEAF(u)) {
            const uint32_t v = UNIT_VALUE(pc->trie[pos]);
            if (v >= pc->norm_len)
                return NULL;
            *out_len = strlen(pc->norm + v); /* the blob is NUL-terminated past its end */
            return pc->norm + v;
        }
    }
    return NULL;
}
