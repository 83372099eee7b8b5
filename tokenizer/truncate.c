/* Truncation windows, exactly as HF tokenizers' utils/truncation.rs and Encoding::truncate.
 * A sequence of n tokens becomes a main window and, when it is cut, overflowing windows of the same
 * size that step by (size - stride). */
#include <stdio.h>

#include "truncate.h"

static const char *strategy_name(bert_truncation t)
{
    switch (t) {
    case BERT_TRUNCATION_LONGEST_FIRST:
        return "longest_first";
    case BERT_TRUNCATION_ONLY_FIRST:
        return "only_first";
    case BERT_TRUNCATION_ONLY_SECOND:
        return "only_second";
    case BERT_TRUNCATION_NONE:
        break;
    }
    return "none";
}

static void whole(bert__windows *w, size_t n)
{
    w->n = 1;
    w->start[0] = 0;
    w->stop[0] = n;
}

/* Encoding::truncate(max_len, stride, Right). */
static bert_status cut(bert__windows *w, size_t n, size_t max_len, size_t stride, char *msg, size_t msg_size)
{
    if (max_len >= n) {
        whole(w, n);
        return BERT_OK;
    }
    if (max_len == 0) {
        /* HF moves the whole sequence into one overflowing window and leaves the main one empty. */
        w->n = 2;
        w->start[0] = w->stop[0] = 0;
        w->start[1] = 0;
        w->stop[1] = n;
        return BERT_OK;
    }
    if (stride >= max_len) {
        snprintf(msg, msg_size, "stride %zu must be smaller than the window of %zu tokens (max_length minus the special tokens)",
                 stride, max_len);
        return BERT_E_TRUNCATION;
    }
    const size_t step = max_len - stride;
    size_t k = 0;
    for (size_t start = 0; start < n; start += step) {
        if (k == w->cap)
            return BERT_E_INTERNAL;
        size_t stop = start + max_len < n ? start + max_len : n;
        w->start[k] = start;
        w->stop[k] = stop;
        k++;
        if (stop == n)
            break;
    }
    w->n = k;
    return BERT_OK;
}

size_t bert__windows_needed(size_t n, size_t stride)
{
    (void)stride;
    /* At most one window per token (step >= 1), plus the empty main window of a zero cut. */
    return n + 2;
}

bert_status bert__truncate(bert_truncation strategy, size_t max_len, size_t stride, size_t n1, const size_t *n2,
                           bert__windows *w1, bert__windows *w2, char *msg, size_t msg_size)
{
    whole(w1, n1);
    if (n2)
        whole(w2, *n2);
    if (strategy == BERT_TRUNCATION_NONE)
        return BERT_OK;
    bert_status st = BERT_OK;
    if (max_len == 0) {
        if ((st = cut(w1, n1, 0, stride, msg, msg_size)) != BERT_OK)
            return st;
        return n2 ? cut(w2, *n2, 0, stride, msg, msg_size) : BERT_OK;
    }
    const size_t total = n1 + (n2 ? *n2 : 0);
    if (total <= max_len)
        return BERT_OK;
    const size_t to_remove = total - max_len;

    if (strategy == BERT_TRUNCATION_LONGEST_FIRST) {
        if (!n2)
            return cut(w1, n1, total - to_remove, stride, msg, msg_size);
        /* HF: give the shorter sequence what it needs up to half, the longer one the rest. */
        size_t a = n1, b = *n2;
        int swap = a > b;
        if (swap) {
            size_t t = a;
            a = b;
            b = t;
        }
        if (a > max_len)
            b = a;
        else
            b = a > max_len - a ? a : max_len - a;
        if (a + b > max_len) {
            a = max_len / 2;
            b = a + max_len % 2;
        }
        if (swap) {
            size_t t = a;
            a = b;
            b = t;
        }
        if ((st = cut(w1, n1, a, stride, msg, msg_size)) != BERT_OK)
            return st;
        return cut(w2, *n2, b, stride, msg, msg_size);
    }

    const int second = strategy == BERT_TRUNCATION_ONLY_SECOND;
    if (second && !n2) {
        snprintf(msg, msg_size, "truncation only_second needs a second sequence");
        return BERT_E_TRUNCATION;
    }
    size_t n = second ? *n2 : n1;
    if (n <= to_remove) {
        snprintf(msg, msg_size,
                 "truncation %s: the %s sequence has %zu tokens but %zu must go to respect max_length (HF: sequence to "
                 "truncate too short to respect the provided max_length)",
                 strategy_name(strategy), second ? "second" : "first", n, to_remove);
        return BERT_E_TRUNCATION;
    }
    return cut(second ? w2 : w1, n, n - to_remove, stride, msg, msg_size);
}
