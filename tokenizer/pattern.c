/* Split and Replace patterns: a literal string, or a regular expression run by Oniguruma, the
 * engine HF tokenizers itself uses (Ruby syntax, UTF-8), so a pattern means here what it means in
 * HF. */
#include <oniguruma.h>
#include <pthread.h>
#include <string.h>

#include "pipe.h"

static pthread_once_t onig_once = PTHREAD_ONCE_INIT;
static int onig_ok;

static void bert_onig_init(void)
{
    OnigEncoding enc[1] = {ONIG_ENCODING_UTF8};
    onig_ok = onig_initialize(enc, 1) == ONIG_NORMAL;
}

bert_status bert__pattern_compile(bert__pattern *pat, const char *s, size_t n, int regex, char *err, size_t err_size)
{
    memset(pat, 0, sizeof *pat);
    if (!regex) {
        pat->str = bert__strndup(s, n);
        pat->len = n;
        if (!pat->str)
            return bert__errbuf_set(err, err_size, BERT_E_NOMEM, "allocating a pattern");
        return BERT_OK;
    }
    pthread_once(&onig_once, bert_onig_init);
    if (!onig_ok)
        return bert__errbuf_set(err, err_size, BERT_E_INTERNAL, "Oniguruma failed to initialize");
    OnigErrorInfo info;
    regex_t *re = NULL;
    int r = onig_new(&re, (const OnigUChar *)s, (const OnigUChar *)s + n, ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                     ONIG_SYNTAX_RUBY, &info);
    if (r != ONIG_NORMAL) {
        OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
        onig_error_code_to_str(msg, r, &info);
        return bert__errbuf_set(err, err_size, r == ONIGERR_MEMORY ? BERT_E_NOMEM : BERT_E_FORMAT,
                                "regex /%.*s/ is refused by Oniguruma: %s", (int)(n > 200 ? 200 : n), s, (char *)msg);
    }
    pat->re = (bert__onig)re;
    return BERT_OK;
}

void bert__pattern_free(bert__pattern *pat)
{
    bert__free(pat->str);
    if (pat->re)
        onig_free((regex_t *)pat->re);
    memset(pat, 0, sizeof *pat);
}

int bert__pattern_next(const bert__pattern *pat, const char *s, size_t n, size_t from, size_t *b, size_t *e)
{
    if (!pat->re) {
        if (pat->len == 0 || from >= n)
            return 0;
        for (size_t i = from; i + pat->len <= n; i++)
            if (s[i] == pat->str[0] && memcmp(s + i, pat->str, pat->len) == 0) {
                *b = i;
                *e = i + pat->len;
                return 1;
            }
        return 0;
    }
    const OnigUChar *u = (const OnigUChar *)s;
    while (from <= n) {
        /* no region: the match's start from onig_search, its length from onig_match there (the
         * same backtracking from the same place), so nothing is allocated per call */
        long at = (long)onig_search((regex_t *)pat->re, u, u + n, u + from, u + n, NULL, ONIG_OPTION_NONE);
        if (at < 0)
            return 0;
        int m = onig_match((regex_t *)pat->re, u, u + n, u + at, NULL, ONIG_OPTION_NONE);
        if (m > 0) {
            *b = (size_t)at;
            *e = (size_t)at + (size_t)m;
            return 1;
        }
        /* an empty match splits nothing: look again one character later */
        from = (size_t)at + 1;
        while (from < n && (u[from] & 0xC0) == 0x80)
            from++;
        if ((size_t)at >= n)
            return 0;
    }
    return 0;
}
