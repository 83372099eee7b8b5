/* The streaming pass from raw bytes to WordPiece tokens: split out added (special) tokens on the
 * raw text, decode UTF-8, normalise each code point (clean text, CJK isolation, accent stripping,
 * lower-casing), split words on whitespace and punctuation, and hand each word to WordPiece as soon
 * as it ends. Memory is one word (bounded by max_input_chars_per_word) plus the output, so a 50 MB
 * line costs linear time and no copy of the text. */
#include <string.h>

#include "tokenizer_int.h"

bert_status bert__seq_reserve(bert__seq *s, size_t need)
{
    if (need <= s->cap)
        return BERT_OK;
    size_t cap = s->cap;
    size_t c1 = cap, c2 = cap, c3 = cap;
    if (bert__grow((void **)&s->ids, &c1, need, sizeof *s->ids) != BERT_OK ||
        bert__grow((void **)&s->offsets, &c2, need, sizeof *s->offsets) != BERT_OK ||
        bert__grow((void **)&s->words, &c3, need, sizeof *s->words) != BERT_OK) {
        /* Arrays that did grow keep their larger block; cap stays at what all three hold. */
        return BERT_E_NOMEM;
    }
    s->cap = c1;
    return BERT_OK;
}

bert_status bert__seq_push(bert__seq *s, int32_t id, bert_span off, int32_t word)
{
    if (s->n == s->cap && bert__seq_reserve(s, s->n + 1) != BERT_OK)
        return BERT_E_NOMEM;
    s->ids[s->n] = id;
    s->offsets[s->n] = off;
    s->words[s->n] = word;
    s->n++;
    return BERT_OK;
}

bert_status bert__seq_own(bert__seq *s, const char *text, size_t len)
{
    if (s->n_own == s->own_cap && bert__grow((void **)&s->own, &s->own_cap, s->n_own + 1, sizeof *s->own))
        return BERT_E_NOMEM;
    if (s->own_len + len > s->own_txt_cap && bert__grow((void **)&s->own_txt, &s->own_txt_cap, s->own_len + len + 1, 1))
        return BERT_E_NOMEM;
    memcpy(s->own_txt + s->own_len, text, len);
    s->own[s->n_own].i = s->n - 1;
    s->own[s->n_own].off = s->own_len;
    s->own[s->n_own].len = len;
    s->n_own++;
    s->own_len += len;
    return BERT_OK;
}

void bert__seq_free(bert__seq *s)
{
    bert__free(s->own);
    bert__free(s->own_txt);
    bert__free(s->ids);
    bert__free(s->offsets);
    bert__free(s->words);
    memset(s, 0, sizeof *s);
}

bert_status bert__word_init(bert__word *w, size_t max_chars)
{
    memset(w, 0, sizeof *w);
    if (max_chars > SIZE_MAX / 8 - 1)
        return BERT_E_INVALID_ARG;
    w->cap = (max_chars + 1) * 4;
    w->bytes = bert__malloc(w->cap);
    w->orig_b = bert__calloc(w->cap, sizeof *w->orig_b);
    w->orig_e = bert__calloc(w->cap, sizeof *w->orig_e);
    if (!w->bytes || !w->orig_b || !w->orig_e) {
        bert__word_free(w);
        return BERT_E_NOMEM;
    }
    return BERT_OK;
}

void bert__word_free(bert__word *w)
{
    bert__free(w->bytes);
    bert__free(w->orig_b);
    bert__free(w->orig_e);
    memset(w, 0, sizeof *w);
}

/* ---- the state of one pass ---- */
typedef struct pass {
    const bert_tokenizer *tok;
    bert__word *w;
    bert__seq *out;
    size_t limit;
    size_t max_chars;
    int32_t next_word;
    int done; /* the limit was reached */
} pass;

static bert_status flush(pass *p)
{
    bert__word *w = p->w;
    if (w->n_chars == 0)
        return BERT_OK;
    bert_status st = bert__wordpiece(p->tok, w, p->next_word++, p->out);
    w->len = 0;
    w->n_chars = 0;
    if (p->limit && p->out->n >= p->limit)
        p->done = 1;
    return st;
}

static void append(pass *p, int32_t c, size_t b, size_t e)
{
    bert__word *w = p->w;
    if (w->n_chars == 0)
        w->span.begin = b;
    w->span.end = e;
    if (w->n_chars++ < p->max_chars) {
        size_t k = bert__utf8_encode(c, w->bytes + w->len);
        for (size_t i = 0; i < k; i++) {
            w->orig_b[w->len + i] = b;
            w->orig_e[w->len + i] = e;
        }
        w->len += k;
    }
}

/* One normalised code point into the pre-tokenizer: whitespace ends a word, punctuation is a word. */
static bert_status feed(pass *p, int32_t c, size_t b, size_t e)
{
    bert_status st = BERT_OK;
    if (bert__cp_is_whitespace(c))
        return flush(p);
    if (bert__cp_is_punct(c)) {
        if ((st = flush(p)) != BERT_OK || p->done)
            return st;
        append(p, c, b, e);
        return flush(p);
    }
    append(p, c, b, e);
    return BERT_OK;
}

/* Longest added token starting at s[0..n), or NULL. The list is sorted longest first. */
static const bert__added *match_added(const bert_tokenizer *tok, const char *s, size_t n)
{
    for (size_t k = 0; k < tok->n_added; k++) {
        const bert__added *a = &tok->added[k];
        if (a->len <= n && memcmp(s, a->s, a->len) == 0)
            return a;
    }
    return NULL;
}

bert_status bert__tokenize(const bert_tokenizer *tok, const char *text, size_t len, const bert__tokenize_opts *o,
                           bert__word *w, bert__seq *out, size_t *bad_at)
{
    const bert_tokenizer_config *cfg = &tok->cfg;
    const int clean = cfg->clean_text, cjk = cfg->tokenize_chinese_chars, lower = cfg->do_lower_case;
    const int strip = cfg->strip_accents < 0 ? cfg->do_lower_case : cfg->strip_accents;
    pass p = {tok, w, out, o->limit, cfg->max_input_chars_per_word, 0, 0};
    const unsigned char *s = (const unsigned char *)text;
    bert_status st = BERT_OK;
    int32_t norm[BERT__NORM_MAX];

    out->n = out->n_own = out->own_len = 0;
    w->len = 0;
    w->n_chars = 0;
    size_t i = 0;
    while (i < len && !p.done && st == BERT_OK) {
        unsigned char c0 = s[i];
        if (tok->added_first[c0]) {
            const bert__added *a = match_added(tok, text + i, len - i);
            if (a) {
                if ((st = flush(&p)) != BERT_OK || p.done)
                    break;
                bert_span sp = {i, i + a->len};
                if ((st = bert__seq_push(out, a->id, sp, p.next_word++)) != BERT_OK)
                    break;
                if (p.limit && out->n >= p.limit)
                    p.done = 1;
                i += a->len;
                continue;
            }
        }
        int32_t c;
        size_t k = bert__utf8_decode(s + i, len - i, &c);
        if (k == 0) {
            if (o->on_invalid == BERT_INVALID_UTF8_ERROR) {
                *bad_at = i;
                return BERT_E_UTF8;
            }
            c = 0xFFFD;
            k = 1;
        }
        const size_t b = i, e = i + k;
        i = e;
        if (clean) {
            if (c == 0 || c == 0xFFFD || bert__cp_is_control(c))
                continue;
            if (bert__cp_is_whitespace(c))
                c = ' ';
        }
        if (c < 0x80) {
            /* ASCII needs no Unicode tables: NFD leaves it alone and lower-casing is a shift. */
            if (lower && c >= 'A' && c <= 'Z')
                c += 32;
            st = feed(&p, c, b, e);
            continue;
        }
        const int isolate = cjk && bert__cp_is_cjk(c);
        if (isolate && (st = flush(&p)) != BERT_OK)
            break;
        if (isolate && p.done)
            break;
        size_t n = bert__normalize_cp(c, strip, lower, norm);
        for (size_t j = 0; j < n && st == BERT_OK && !p.done; j++)
            st = feed(&p, norm[j], b, e);
        if (isolate && st == BERT_OK && !p.done)
            st = flush(&p);
    }
    if (st == BERT_OK && !p.done)
        st = flush(&p);
    return st;
}
