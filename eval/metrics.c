/* The official metric definitions of GLUE/SuperGLUE (sklearn / scipy semantics). */
#include <math.h>
#include <stdlib.h>

#include <bert/eval.h>

#include "../common/common.h"

double bert_metric_accuracy(const int32_t *pred, const int32_t *gold, size_t n)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += pred[i] == gold[i];
    return n ? (double)ok / (double)n : 0.0;
}

double bert_metric_f1(const int32_t *pred, const int32_t *gold, size_t n, int32_t positive)
{
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        tp += pred[i] == positive && gold[i] == positive;
        fp += pred[i] == positive && gold[i] != positive;
        fn += pred[i] != positive && gold[i] == positive;
    }
    return tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
}

double bert_metric_macro_f1(const int32_t *pred, const int32_t *gold, size_t n, size_t n_classes)
{
    double s = 0;
    for (size_t c = 0; c < n_classes; c++)
        s += bert_metric_f1(pred, gold, n, (int32_t)c);
    return n_classes ? s / (double)n_classes : 0.0;
}

double bert_metric_mcc(const int32_t *pred, const int32_t *gold, size_t n)
{
    /* sklearn: with the confusion matrix C, t_k = row sums, p_k = column sums, c = trace, s = n:
     * (c*s - sum t_k p_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)) */
    int32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k = pred[i] + 1 > k ? pred[i] + 1 : k;
        k = gold[i] + 1 > k ? gold[i] + 1 : k;
    }
    if (n == 0 || k <= 0 || k > 1024)
        return 0.0;
    double t[1024] = {0}, p[1024] = {0}, c = 0, s = (double)n;
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < 0 || gold[i] < 0)
            continue;
        t[gold[i]]++;
        p[pred[i]]++;
        c += pred[i] == gold[i];
    }
    double tp = 0, pp = 0, tt = 0;
    for (int32_t j = 0; j < k; j++) {
        tp += t[j] * p[j];
        pp += p[j] * p[j];
        tt += t[j] * t[j];
    }
    double den = sqrt((s * s - pp) * (s * s - tt));
    return den == 0.0 ? 0.0 : (c * s - tp) / den;
}

double bert_metric_pearson(const double *x, const double *y, size_t n)
{
    if (n == 0)
        return 0.0;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0 || syy == 0)
        return NAN;
    return sxy / sqrt(sxx * syy);
}

typedef struct rank_item {
    double v;
    size_t i;
} rank_item;

static int by_value(const void *a, const void *b)
{
    const rank_item *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}

/* 1-based ranks, ties given the mean of the ranks they span */
static void ranks(const double *v, size_t n, rank_item *tmp, double *out)
{
    for (size_t i = 0; i < n; i++) {
        tmp[i].v = v[i];
        tmp[i].i = i;
    }
    qsort(tmp, n, sizeof *tmp, by_value);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && tmp[j].v == tmp[i].v)
            j++;
        double r = (double)(i + j + 1) / 2.0; /* mean of ranks i+1 .. j */
        for (size_t k = i; k < j; k++)
            out[tmp[k].i] = r;
        i = j;
    }
}

bert_status bert_metric_spearman(const double *x, const double *y, size_t n, double *out)
{
    if (!out || (n && (!x || !y)))
        return BERT_E_INVALID_ARG;
    *out = 0.0;
    if (n == 0)
        return BERT_OK;
    rank_item *tmp = bert__calloc(n, sizeof *tmp);
    double *rx = bert__calloc(n, sizeof *rx), *ry = bert__calloc(n, sizeof *ry);
    if (!tmp || !rx || !ry) {
        bert__free(tmp);
        bert__free(rx);
        bert__free(ry);
        return BERT_E_NOMEM;
    }
    ranks(x, n, tmp, rx);
    ranks(y, n, tmp, ry);
    *out = bert_metric_pearson(rx, ry, n);
    bert__free(tmp);
    bert__free(rx);
    bert__free(ry);
    return BERT_OK;
}
