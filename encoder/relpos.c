/* Relative position terms of the attention scores, per (sequence, head): MPNet's learned bucket
 * bias and DeBERTa's disentangled content-to-position and position-to-content terms. Both depend on
 * i - j only through a bucket, so a padding-free segment of L tokens gets the same terms as the
 * padded row transformers computes. The bucket functions repeat transformers' float32 arithmetic
 * step by step: a bucket boundary (a logarithm landing on an integer) must fall the same way. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"

/* MPNet (T5's scheme): relative_position = j - i, num_buckets split by sign, exact below half of
 * each half, logarithmic up to max_distance. */
static int mpnet_bucket(long rel, long num_buckets, long max_distance)
{
    long ret = 0, n = -rel;
    num_buckets /= 2;
    if (n < 0)
        ret += num_buckets;
    n = labs(n);
    const long max_exact = num_buckets / 2;
    if (n < max_exact)
        return (int)(ret + n);
    const float lg = logf((float)n / (float)max_exact) / (float)log((double)max_distance / (double)max_exact);
    long v = max_exact + (long)(lg * (float)(num_buckets - max_exact));
    if (v > num_buckets - 1)
        v = num_buckets - 1;
    return (int)(ret + v);
}

/* DeBERTa's make_log_bucket_position for rel = i - j. */
static long deberta_bucket(long rel, long bucket_size, long max_position)
{
    if (bucket_size <= 0 || max_position <= 0)
        return rel;
    const long sign = rel > 0 ? 1 : rel < 0 ? -1 : 0, mid = bucket_size / 2;
    const long abs_pos = rel < mid && rel > -mid ? mid - 1 : labs(rel);
    if (abs_pos <= mid)
        return rel;
    const float log_pos = ceilf(logf((float)abs_pos / (float)mid) /
                                logf((float)((double)(max_position - 1) / (double)mid)) * (float)(mid - 1)) +
                          (float)mid;
    return (long)(log_pos * (float)sign);
}

size_t bert__relpos_scratch(const bert_model *m, size_t L)
{
    switch (m->cfg.fam->relative) {
    case BERT__REL_BUCKET_BIAS:
        return L * L + 2 * L;
    case BERT__REL_DISENTANGLED:
        return L * L + 2 * L + 2 * L * (2 * L);
    case BERT__REL_NONE:
        break;
    }
    return 0;
}

float bert__relpos_scale(const bert_model *m)
{
    const size_t dh = m->cfg.info.hidden_size / m->cfg.info.n_heads;
    if (m->cfg.fam->relative == BERT__REL_DISENTANGLED)
        return 1.f / sqrtf((float)dh * (float)(1 + m->cfg.c2p + m->cfg.p2c));
    return 1.f / sqrtf((float)dh);
}

void bert__relpos_fill(const bert__attn_bias *ab, const float *q, const float *k, size_t ld, size_t L, size_t h,
                       float *B, float *work)
{
    const bert_model *m = ab->m;
    const bert__config *cfg = &m->cfg;
    const size_t H = cfg->info.hidden_size, heads = cfg->info.n_heads, dh = H / heads;
    float *by_dist = work; /* [2L - 1], index (i - j) + L - 1 */
    if (cfg->fam->relative == BERT__REL_BUCKET_BIAS) {
        for (long d = -(long)L + 1; d < (long)L; d++) /* d = i - j, relative_position = -d */
            by_dist[d + (long)L - 1] =
                m->rel_bias[(size_t)mpnet_bucket(-d, (long)cfg->rel_buckets, (long)cfg->rel_max_distance) * heads + h];
        for (size_t i = 0; i < L; i++)
            for (size_t j = 0; j < L; j++)
                B[i * L + j] = by_dist[i - j + L - 1];
        return;
    }
    /* DeBERTa: c2p(i, j) = q_i . pos_k[r], p2c(i, j) = k_j . pos_q[r] with r = clamp(bucket(i - j) +
     * span) for both (the bucket is odd in i - j); only the r that some i - j reaches are projected */
    const long span = (long)cfg->rel_span;
    long rmin = 2 * span, rmax = -1;
    for (long d = -(long)L + 1; d < (long)L; d++) {
        long r = deberta_bucket(d, (long)cfg->rel_log_buckets, (long)cfg->rel_max_pos) + span;
        r = r < 0 ? 0 : r > 2 * span - 1 ? 2 * span - 1 : r;
        by_dist[d + (long)L - 1] = (float)r;
        rmin = r < rmin ? r : rmin;
        rmax = r > rmax ? r : rmax;
    }
    const size_t nr = (size_t)(rmax - rmin + 1);
    float *qp = work + 2 * L, *kp = qp + L * nr;
    const bert__layer *y = ab->y;
    for (size_t i = 0; i < L; i++)
        for (size_t r = 0; r < nr; r++) {
            const float *pk = y->rel_k + ((size_t)rmin + r) * H + h * dh,
                        *pq = y->rel_q + ((size_t)rmin + r) * H + h * dh;
            const float *qi = q + i * ld, *ki = k + i * ld;
            float a = 0.f, b = 0.f;
            for (size_t d = 0; d < dh; d++) {
                a += qi[d] * pk[d];
                b += ki[d] * pq[d];
            }
            qp[i * nr + r] = a;
            kp[i * nr + r] = b;
        }
    const float scale = ab->scale;
    for (size_t i = 0; i < L; i++)
        for (size_t j = 0; j < L; j++) {
            const size_t r = (size_t)by_dist[i - j + L - 1] - (size_t)rmin;
            B[i * L + j] = ((cfg->c2p ? qp[i * nr + r] : 0.f) + (cfg->p2c ? kp[j * nr + r] : 0.f)) * scale;
        }
}
