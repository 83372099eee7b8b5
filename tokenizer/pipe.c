/* Running a tokenizer.json pipeline over one text: raw added tokens, normalizers, normalized added
 * tokens, pre-tokenizers, the model, then the offsets' trimming of a ByteLevel post-processor, in
 * HF's order. Each stage reads the pieces of one arena and writes the next. */
#include "pipe.h"

#include <string.h>

#include <utf8proc.h>

bert_status bert__arena_reserve(bert__arena *a, size_t extra)
{
    if (a->len + extra <= a->cap)
        return BERT_OK;
    size_t c1 = a->cap, c2 = a->cap;
    if (bert__grow((void **)&a->b, &c1, a->len + extra, 1) ||
        bert__grow((void **)&a->al, &c2, a->len + extra, sizeof *a->al))
        return BERT_E_NOMEM;
    a->cap = c1 < c2 ? c1 : c2;
    return BERT_OK;
}

bert_status bert__arena_put(bert__arena *a, const char *s, size_t n, bert_span al)
{
    if (n == 0)
        return BERT_OK;
    if (bert__arena_reserve(a, n) != BERT_OK)
        return BERT_E_NOMEM;
    memcpy(a->b + a->len, s, n);
    for (size_t i = 0; i < n; i++)
        a->al[a->len + i] = al;
    a->len += n;
    return BERT_OK;
}

bert_status bert__arena_copy(bert__arena *a, const char *s, const bert_span *al, size_t n)
{
    if (n == 0)
        return BERT_OK;
    if (bert__arena_reserve(a, n) != BERT_OK)
        return BERT_E_NOMEM;
    memcpy(a->b + a->len, s, n);
    memcpy(a->al + a->len, al, n * sizeof *al);
    a->len += n;
    return BERT_OK;
}

bert_status bert__scratch_grow(bert__pwork *w, size_t need)
{
    if (need <= w->scratch_cap && w->from && w->best)
        return BERT_OK;
    size_t c1 = w->scratch_cap, c2 = c1, c3 = c1, c4 = c1, c5 = c1, c6 = c1;
    if (bert__grow((void **)&w->sym_id, &c1, need, sizeof *w->sym_id) ||
        bert__grow((void **)&w->sym_off, &c2, need, sizeof *w->sym_off) ||
        bert__grow((void **)&w->sym_len, &c3, need, sizeof *w->sym_len) ||
        bert__grow((void **)&w->best, &c4, need, sizeof *w->best) ||
        bert__grow((void **)&w->from, &c5, need, sizeof *w->from) ||
        bert__grow((void **)&w->best_id, &c6, need, sizeof *w->best_id))
        return BERT_E_NOMEM;
    size_t c = c1;
    c = c2 < c ? c2 : c, c = c3 < c ? c3 : c, c = c4 < c ? c4 : c, c = c5 < c ? c5 : c, c = c6 < c ? c6 : c;
    w->scratch_cap = c;
    return BERT_OK;
}

bert_status bert__emit_syms(const bert__pwork *w, size_t ns, size_t n, const bert_span *al, int32_t word,
                            bert__seq *out)
{
    bert_status st;
    if ((st = bert__seq_reserve(out, out->n + ns)) != BERT_OK)
        return st;
    for (size_t j = 0; j < ns; j++) {
        size_t b = w->sym_off[j], e = b + w->sym_len[j];
        if (e > n)
            e = n;
        if ((st = bert__seq_push(out, w->sym_id[j], (bert_span){al[b].begin, al[e - 1].end}, word)) != BERT_OK)
            return st;
    }
    return BERT_OK;
}

bert_status bert__arena_put_cp(bert__arena *a, int32_t c, bert_span al)
{
    char buf[4];
    size_t k = bert__utf8_encode(c, buf);
    return bert__arena_put(a, buf, k, al);
}

/* A new piece from arena byte off to the current end (empty pieces are dropped, as HF drops them). */
bert_status bert__arena_piece(bert__arena *a, size_t off, size_t shift, int32_t id)
{
    if (off == a->len && id < 0)
        return BERT_OK;
    if (a->n == a->pc_cap && bert__grow((void **)&a->pc, &a->pc_cap, a->n + 1, sizeof *a->pc))
        return BERT_E_NOMEM;
    bert__piece *p = &a->pc[a->n++];
    p->off = off;
    p->len = a->len - off;
    p->shift = shift;
    p->id = id;
    return BERT_OK;
}

static int is_ws(int32_t c)
{
    return bert__cp_is_whitespace(c);
}

/* Start of the whitespace run that ends s[0..n) (HF's space_leftmost_at_end). */
static size_t ws_run_start(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0) {
        size_t k = i - 1;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        int32_t c = 0;
        if (!bert__utf8_decode((const unsigned char *)s + k, i - k, &c) || !is_ws(c))
            break;
        i = k;
    }
    return i;
}

static size_t ws_run_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int32_t c = 0;
        size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (!k || !is_ws(c))
            break;
        i += k;
    }
    return i;
}

/* Rust regex's \w (HF's single_word test): letters, marks, decimal digits, letter numbers,
 * connector punctuation, and the joiners. */
static int word_cp(int32_t c)
{
    if (c < 0x80)
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? 1 : (c >= '0' && c <= '9') || c == '_';
    if (c == 0x200C || c == 0x200D)
        return 1;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
        return 1;
    default:
        return 0;
    }
}

static int word_char_at(const char *s, size_t n, size_t i)
{
    int32_t c = 0;
    return bert__utf8_decode((const unsigned char *)s + i, n - i, &c) && word_cp(c);
}

static int word_char_before(const char *s, size_t i)
{
    size_t k = i - 1;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return word_char_at(s, i, k);
}

/* Splits the text pieces of `in` around the added tokens [from, to) of p, leftmost-longest, with
 * lstrip/rstrip taking the neighbouring whitespace into the token (HF's find_matches). */
static bert_status split_added(const bert__pipe *p, int set, const bert__arena *in, bert__arena *out)
{
    const size_t *idx = p->added_from[set];
    bert_status st;
    out->len = out->n = 0;
    for (size_t k = 0; k < in->n; k++) {
        const bert__piece *pc = &in->pc[k];
        const char *s = in->b + pc->off;
        const bert_span *al = in->al + pc->off;
        const size_t n = pc->len;
        size_t done = 0; /* bytes of the piece already written */
        if (pc->id < 0) {
            for (size_t i = 0; i < n;) {
                const struct bert__added_tok *hit = NULL;
                const unsigned char c0 = (unsigned char)s[i];
                for (size_t t = idx[c0]; t < idx[c0 + 1]; t++) {
                    const struct bert__added_tok *a = &p->added[t];
                    if (a->len <= n - i && memcmp(s + i, a->s, a->len) == 0) {
                        hit = a; /* sorted longest first within each set */
                        break;
                    }
                }
                if (!hit) {
                    i++;
                    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
                        i++;
                    continue;
                }
                size_t b = i, e = i + hit->len;
                if (hit->single_word && ((b > 0 && word_char_before(s, b)) || (e < n && word_char_at(s, n, e)))) {
                    i = e; /* a match inside a word is passed over, not looked into again (HF) */
                    continue;
                }
                if (hit->lstrip) {
                    size_t nb = ws_run_start(s, b);
                    b = nb > done ? nb : done;
                }
                if (hit->rstrip)
                    e += ws_run_len(s + e, n - e);
                if (b > done) {
                    size_t off = out->len;
                    if ((st = bert__arena_copy(out, s + done, al + done, b - done)) != BERT_OK)
                        return st;
                    if ((st = bert__arena_piece(out, off, done ? al[done].begin : pc->shift, -1)) != BERT_OK)
                        return st;
                }
                size_t off = out->len;
                if ((st = bert__arena_copy(out, s + b, al + b, e - b)) != BERT_OK)
                    return st;
                if ((st = bert__arena_piece(out, off, al[b].begin, hit->id)) != BERT_OK)
                    return st;
                done = i = e;
            }
        }
        if (done < n || (pc->id >= 0)) {
            size_t off = out->len;
            if ((st = bert__arena_copy(out, s + done, al + done, n - done)) != BERT_OK)
                return st;
            if ((st = bert__arena_piece(out, off, done ? al[done].begin : pc->shift, pc->id)) != BERT_OK)
                return st;
        }
    }
    return BERT_OK;
}

enum { CACHE_SLOTS = 32768, CACHE_WORD = 30, CACHE_SYMS = 8 };
struct bert__wcache_entry {
    uint64_t h;
    uint8_t wl, ns;
    char w[CACHE_WORD];
    int32_t id[CACHE_SYMS];
    uint8_t off[CACHE_SYMS], len[CACHE_SYMS];
};

/* The cache is 4-way set-associative: a word's set is its hash's low bits. Returns the set (NULL:
 * no cache, or a word too long for it). */
enum { CACHE_WAYS = 4 };
static struct bert__wcache_entry *wcache_set(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n,
                                             uint64_t *h)
{
    if (n > CACHE_WORD || !w->wcache)
        return NULL;
    if (w->wcache_owner != tok) { /* a batch may be used with another tokenizer */
        memset(w->wcache, 0, CACHE_SLOTS * sizeof *w->wcache);
        w->wcache_owner = tok;
    }
    *h = bert__fnv(BERT__FNV_OFFSET, s, n);
    return &w->wcache[(*h & (CACHE_SLOTS / CACHE_WAYS - 1)) * CACHE_WAYS];
}

int bert__wcache_get(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, size_t *ns)
{
    uint64_t h = 0;
    const struct bert__wcache_entry *set = wcache_set(tok, w, s, n, &h);
    for (size_t k = 0; set && k < CACHE_WAYS; k++) {
        const struct bert__wcache_entry *e = &set[k];
        if (!e->ns || e->h != h || e->wl != n || memcmp(e->w, s, n) != 0)
            continue;
        for (size_t j = 0; j < e->ns; j++) {
            w->sym_id[j] = e->id[j];
            w->sym_off[j] = e->off[j];
            w->sym_len[j] = e->len[j];
        }
        *ns = e->ns;
        return 1;
    }
    return 0;
}

bert_status bert__wcache_put(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, size_t ns)
{
    if (n > CACHE_WORD || ns == 0 || ns > CACHE_SYMS)
        return BERT_OK;
    if (!w->wcache && !(w->wcache = bert__calloc(CACHE_SLOTS, sizeof *w->wcache)))
        return BERT_E_NOMEM;
    uint64_t h = 0;
    struct bert__wcache_entry *set = wcache_set(tok, w, s, n, &h), *e = NULL;
    for (size_t k = 0; k < CACHE_WAYS && !e; k++)
        if (!set[k].ns)
            e = &set[k];
    if (!e) /* a full set: a way picked by the hash's high bits goes */
        e = &set[(h >> 60) % CACHE_WAYS];
    e->h = h;
    e->wl = (uint8_t)n;
    e->ns = (uint8_t)ns;
    memcpy(e->w, s, n);
    for (size_t j = 0; j < CACHE_SYMS && j < ns; j++) {
        e->id[j] = w->sym_id[j];
        e->off[j] = (uint8_t)w->sym_off[j];
        e->len[j] = (uint8_t)w->sym_len[j];
    }
    return BERT_OK;
}

/* The original text as one piece, each byte aligned to its character. */
static bert_status load_text(bert__arena *a, const char *text, size_t len)
{
    a->len = a->n = 0;
    if (bert__arena_reserve(a, len) != BERT_OK)
        return BERT_E_NOMEM;
    if (len)
        memcpy(a->b, text, len);
    /* the caller checked the text is valid UTF-8: each lead byte says its character's length */
    for (size_t i = 0; i < len;) {
        const unsigned char b0 = (unsigned char)text[i];
        const size_t k = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
        const bert_span sp = {i, i + k <= len ? i + k : len};
        for (size_t j = i; j < sp.end; j++)
            a->al[j] = sp;
        i = sp.end;
    }
    a->len = len;
    return bert__arena_piece(a, 0, 0, -1);
}

/* ByteLevel's trim_offsets: the leading and trailing spaces of a token's text ('Ġ', or whitespace
 * in an added token's own text) leave its offsets (HF's process_offsets). */
static int space_char(int32_t c)
{
    return c == 0x120 || bert__cp_is_whitespace(c);
}

/* Moves byte offset o by k characters of text (forward, or back when back), staying in [lo, hi]. */
static size_t move_chars(const char *text, size_t o, size_t k, int back, size_t lo, size_t hi)
{
    while (k--) {
        if (back ? o <= lo : o >= hi)
            break;
        if (back)
            do
                o--;
            while (o > lo && ((unsigned char)text[o] & 0xC0) == 0x80);
        else
            do
                o++;
            while (o < hi && ((unsigned char)text[o] & 0xC0) == 0x80);
    }
    return o;
}

/* HF trims in character offsets (its bindings convert them before post-processing), so the
 * counts of leading and trailing space characters move the offsets by characters of the text. */
void bert__count_spaces(const char *t, size_t len, size_t *lead, size_t *trail)
{
    size_t i = 0, end = len;
    int32_t c = 0;
    *lead = *trail = 0;
    while (i < len) {
        size_t k = bert__utf8_decode((const unsigned char *)t + i, len - i, &c);
        if (!k || !space_char(c))
            break;
        (*lead)++;
        i += k;
    }
    while (end > 0) {
        size_t k = end - 1;
        while (k > 0 && ((unsigned char)t[k] & 0xC0) == 0x80)
            k--;
        if (!bert__utf8_decode((const unsigned char *)t + k, end - k, &c) || !space_char(c))
            break;
        (*trail)++;
        end = k;
    }
}

static void trim_by(bert_span *o, size_t lead, size_t trail, int is_first, int add_prefix_space, const char *text)
{
    if (lead) {
        if (is_first && add_prefix_space && lead == 1)
            lead = 0;
        o->begin = move_chars(text, o->begin, lead, 0, o->begin, o->end);
    }
    if (trail) {
        /* HF: only when end >= trail (in characters from the text's start) */
        size_t from_start = 0;
        for (size_t j = 0; j < o->end && from_start < trail; j++)
            from_start += ((unsigned char)text[j] & 0xC0) != 0x80;
        if (from_start >= trail)
            o->end = move_chars(text, o->end, trail, 1, o->begin, o->end);
    }
}

static void trim_one(bert_span *o, const char *t, size_t len, int is_first, int add_prefix_space, const char *text)
{
    size_t lead, trail;
    bert__count_spaces(t, len, &lead, &trail);
    trim_by(o, lead, trail, is_first, add_prefix_space, text);
}

/* WordPiece on a piece: the fast path's own greedy matcher, fed the piece as a word. */
static bert_status wordpiece(const bert_tokenizer *tok, bert__pwork *w, const char *s, size_t n, const bert_span *al,
                             int32_t word, bert__seq *out)
{
    const size_t max_chars = tok->pipe->model.max_chars_per_word;
    bert_status st;
    if (!w->word.bytes && (st = bert__word_init(&w->word, max_chars)) != BERT_OK)
        return st;
    bert__word *wd = &w->word;
    wd->len = wd->n_chars = 0;
    wd->span.begin = al[0].begin;
    wd->span.end = al[n - 1].end;
    for (size_t i = 0; i < n;) {
        int32_t c = 0;
        size_t k = bert__utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (!k)
            k = 1;
        if (wd->n_chars++ < max_chars) {
            memcpy(wd->bytes + wd->len, s + i, k);
            for (size_t j = 0; j < k; j++) {
                wd->orig_b[wd->len + j] = al[i + j].begin;
                wd->orig_e[wd->len + j] = al[i + j].end;
            }
            wd->len += k;
        }
        i += k;
    }
    return bert__wordpiece(tok, wd, word, out);
}

bert_status bert__pipe_tokenize(const bert_tokenizer *tok, bert__pwork *w, const char *text, size_t len, bert__seq *out)
{
    const bert__pipe *p = tok->pipe;
    bert_status st;
    out->n = out->n_own = out->own_len = 0;
    bert__arena *a = &w->a[0], *b = &w->a[1];
    if ((st = load_text(a, text, len)) != BERT_OK)
        return st;
    if (p->n_raw) {
        if ((st = split_added(p, 0, a, b)) != BERT_OK)
            return st;
        bert__arena *t = a;
        a = b, b = t;
    }
    w->cur = a == &w->a[1];
    if (p->n_norms && (st = bert__normalize_pieces(p, w)) != BERT_OK)
        return st;
    a = &w->a[w->cur], b = &w->a[1 - w->cur];
    if (p->n_added > p->n_raw) {
        if ((st = split_added(p, 1, a, b)) != BERT_OK)
            return st;
        w->cur = 1 - w->cur;
    }
    if (p->n_pres && (st = bert__pretokenize_pieces(p, w)) != BERT_OK)
        return st;
    a = &w->a[w->cur];
    for (size_t k = 0; k < a->n; k++) {
        const bert__piece *pc = &a->pc[k];
        const bert_span *al = a->al + pc->off;
        if (pc->id >= 0) {
            bert_span sp = {al[0].begin, al[pc->len - 1].end};
            if (pc->len == 0)
                sp.begin = sp.end = pc->shift;
            if (p->post.trim_offsets)
                trim_one(&sp, a->b + pc->off, pc->len, out->n == 0 || sp.begin == 0, p->post.add_prefix_space, text);
            if ((st = bert__seq_push(out, pc->id, sp, (int32_t)k)) != BERT_OK ||
                (st = bert__seq_own(out, a->b + pc->off, pc->len)) != BERT_OK)
                return st;
            continue;
        }
        const size_t first = out->n;
        switch (p->model.kind) {
        case BERT__M_BPE:
            st = bert__bpe(tok, w, a->b + pc->off, pc->len, al, (int32_t)k, out);
            break;
        case BERT__M_UNIGRAM:
            st = bert__unigram(tok, w, a->b + pc->off, pc->len, al, (int32_t)k, out);
            break;
        case BERT__M_WORDPIECE:
            st = wordpiece(tok, w, a->b + pc->off, pc->len, al, (int32_t)k, out);
            break;
        case BERT__M_WORDLEVEL: {
            /* the whole piece is a token, or [UNK] */
            const char *t = a->b + pc->off;
            int32_t id = bert_tokenizer_token_to_id(tok, t, pc->len);
            if (id < 0 || (size_t)id >= p->model.n_model)
                id = p->model.unk_id;
            st = bert__seq_push(out, id, (bert_span){al[0].begin, al[pc->len - 1].end}, (int32_t)k);
            break;
        }
        default:
            st = BERT_E_UNSUPPORTED;
        }
        if (st != BERT_OK)
            return st;
        for (size_t i = first; p->post.trim_offsets && i < out->n; i++) {
            const int32_t id = out->ids[i];
            if (p->trim_lead && (p->trim_lead[id] || p->trim_trail[id]))
                trim_by(&out->offsets[i], p->trim_lead[id], p->trim_trail[id], i == 0 || out->offsets[i].begin == 0,
                        p->post.add_prefix_space, text);
        }
    }
    return BERT_OK;
}
