/* The queue and its workers (see batcher.h). One mutex guards the queue and every job's done flag;
 * a request waits on its own condition variable only through the shared one, which workers
 * broadcast when a batch ends (requests are few next to the work of a batch). */
#define _POSIX_C_SOURCE 200809L
#include "batcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct worker {
    serve_batcher *b;
    pthread_t thread;
    bert_ctx *ctx;
    bert_batch *batch;
    bert_result *res;
    bert_text *texts;
    size_t texts_cap;
    const int32_t **ids;
    size_t *id_lens;
    size_t ids_cap;
    int started;
} worker;

struct serve_batcher {
    const bert_model *m;
    serve_limits lim;
    bert_encode_params enc;
    bert_head *embed;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    serve_job *head, *tail;
    size_t queued, running;
    int stopping;
    worker *workers;
};

double serve_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail_all(serve_job **jobs, size_t n, bert_status st, const char *msg)
{
    for (size_t i = 0; i < n; i++) {
        jobs[i]->status = st;
        snprintf(jobs[i]->err, sizeof jobs[i]->err, "%s", msg);
    }
}

/* One batch: every job's texts encoded together, run once, the rows handed back. */
static void run_jobs(worker *w, serve_job **jobs, size_t n)
{
    serve_batcher *b = w->b;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += jobs[i]->n;
    if (total > w->texts_cap) {
        bert_text *t = realloc(w->texts, total * sizeof *t);
        if (!t) {
            fail_all(jobs, n, BERT_E_NOMEM, "out of memory for the batch");
            return;
        }
        w->texts = t;
        w->texts_cap = total;
    }
    if (jobs[0]->kind == SERVE_EMBED_IDS) {
        if (total > w->ids_cap) {
            const int32_t **ip = realloc(w->ids, total * sizeof *ip);
            if (ip)
                w->ids = ip;
            size_t *lp = realloc(w->id_lens, total * sizeof *lp);
            if (lp)
                w->id_lens = lp;
            if (!ip || !lp) {
                fail_all(jobs, n, BERT_E_NOMEM, "out of memory for the batch");
                return;
            }
            w->ids_cap = total;
        }
        for (size_t i = 0, k = 0; i < n; i++)
            for (size_t t = 0; t < jobs[i]->n; t++, k++) {
                w->ids[k] = jobs[i]->ids[t];
                w->id_lens[k] = jobs[i]->id_lens[t];
            }
        if (bert_batch_set_ids(w->batch, bert_model_tokenizer(b->m), w->ids, w->id_lens, total) != BERT_OK) {
            fail_all(jobs, n, BERT_E_INVALID_ARG, bert_batch_errmsg(w->batch));
            return;
        }
    } else {
        for (size_t i = 0, k = 0; i < n; i++)
            for (size_t t = 0; t < jobs[i]->n; t++)
                w->texts[k++] = jobs[i]->texts[t];
    }
    if (jobs[0]->kind != SERVE_EMBED_IDS &&
        bert_batch_encode(w->batch, bert_model_tokenizer(b->m), w->texts, total, &b->enc) != BERT_OK) {
        fail_all(jobs, n, BERT_E_INVALID_ARG, bert_batch_errmsg(w->batch));
        return;
    }
    const float *rows;
    size_t dim;
    if (jobs[0]->kind == SERVE_HEAD) { /* n is 1: the head fills the request's own result */
        if (bert_head_run(jobs[0]->head, w->ctx, w->batch, w->texts, jobs[0]->res) != BERT_OK)
            fail_all(jobs, n, BERT_E_INTERNAL, bert_result_errmsg(jobs[0]->res));
        else
            jobs[0]->status = BERT_OK;
        return;
    }
    if (jobs[0]->kind == SERVE_EMBED || jobs[0]->kind == SERVE_EMBED_IDS) {
        if (bert_head_run(b->embed, w->ctx, w->batch, jobs[0]->kind == SERVE_EMBED ? w->texts : NULL, w->res) !=
            BERT_OK) {
            fail_all(jobs, n, BERT_E_INTERNAL, bert_result_errmsg(w->res));
            return;
        }
        rows = bert_result_vector(w->res, 0);
        dim = bert_result_dim(w->res);
    } else {
        bert_run_params rp = bert_run_default_params();
        rp.cls_only = 1;
        if (bert_ctx_run_batch(w->ctx, w->batch, &rp) != BERT_OK) {
            fail_all(jobs, n, BERT_E_INTERNAL, bert_ctx_errmsg(w->ctx));
            return;
        }
        rows = bert_ctx_logits(w->ctx);
        dim = bert_model_get_info(b->m).n_labels;
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        serve_job *j = jobs[i];
        j->out = malloc(j->n * dim * sizeof(float));
        if (!j->out) {
            j->status = BERT_E_NOMEM;
            snprintf(j->err, sizeof j->err, "out of memory for the results");
        } else {
            memcpy(j->out, rows + k * dim, j->n * dim * sizeof(float));
            j->dim = dim;
            j->status = BERT_OK;
        }
        k += j->n;
    }
}

static void *work(void *arg)
{
    worker *w = arg;
    serve_batcher *b = w->b;
    serve_job **jobs = calloc(b->lim.max_batch_requests, sizeof *jobs);
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stopping)
            pthread_cond_wait(&b->work, &b->mu);
        if (!b->head)
            break; /* stopping, and nothing left to do */
        /* FIFO: the first job, then those behind it of the same kind while they fit */
        size_t n = 0, tokens = 0;
        const serve_kind kind = b->head->kind;
        while (b->head && b->head->kind == kind && (n == 0 || kind != SERVE_HEAD) && n < b->lim.max_batch_requests &&
               (n == 0 || tokens + b->head->tokens <= b->lim.max_batch_tokens) && jobs) {
            serve_job *j = b->head;
            b->head = j->next;
            if (!b->head)
                b->tail = NULL;
            tokens += j->tokens;
            j->taken = 1;
            jobs[n++] = j;
        }
        b->running += n;
        pthread_mutex_unlock(&b->mu);
        const double t0 = serve_now();
        if (jobs)
            run_jobs(w, jobs, n);
        const double t1 = serve_now();
        pthread_mutex_lock(&b->mu);
        for (size_t i = 0; i < n; i++) {
            jobs[i]->queued_s = t0 - jobs[i]->t_queued;
            jobs[i]->run_s = t1 - t0;
            jobs[i]->batch_requests = n;
            jobs[i]->done = 1;
        }
        b->running -= n;
        b->queued -= n;
        pthread_cond_broadcast(&b->done);
        if (!jobs)
            break;
    }
    pthread_mutex_unlock(&b->mu);
    free(jobs);
    return NULL;
}

int serve_batcher_new(serve_batcher **out, const bert_model *m, const serve_limits *lim, const bert_encode_params *enc,
                      char *err, size_t err_size)
{
    *out = NULL;
    serve_batcher *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    b->m = m;
    b->lim = *lim;
    b->enc = *enc;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->work, NULL);
    pthread_cond_init(&b->done, NULL);
    bert_head_params hp = bert_head_default_params();
    hp.name = "embed";
    if (bert_head_new(m, &hp, &b->embed, err, err_size) != BERT_OK) {
        serve_batcher_free(b);
        return -1;
    }
    b->workers = calloc(lim->workers, sizeof *b->workers);
    if (!b->workers) {
        snprintf(err, err_size, "out of memory");
        serve_batcher_free(b);
        return -1;
    }
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = (int)lim->threads;
    for (size_t i = 0; i < lim->workers; i++) {
        worker *w = &b->workers[i];
        w->b = b;
        if (bert_ctx_new(m, &cp, &w->ctx, err, err_size) != BERT_OK ||
            bert_batch_new(&w->batch, err, err_size) != BERT_OK || bert_result_new(&w->res, err, err_size) != BERT_OK) {
            serve_batcher_free(b);
            return -1;
        }
        if (pthread_create(&w->thread, NULL, work, w) != 0) {
            snprintf(err, err_size, "cannot start worker thread %zu", i);
            serve_batcher_free(b);
            return -1;
        }
        w->started = 1;
    }
    *out = b;
    return 0;
}

int serve_submit(serve_batcher *b, serve_job *j)
{
    pthread_mutex_lock(&b->mu);
    if (b->stopping || b->queued >= b->lim.max_queue) {
        pthread_mutex_unlock(&b->mu);
        return -1;
    }
    j->done = j->taken = 0;
    j->next = NULL;
    j->out = NULL;
    j->t_queued = serve_now();
    if (b->tail)
        b->tail->next = j;
    else
        b->head = j;
    b->tail = j;
    b->queued++;
    pthread_cond_signal(&b->work);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    const double t = (double)deadline.tv_sec + (double)deadline.tv_nsec * 1e-9 + b->lim.timeout_s;
    deadline.tv_sec = (time_t)t;
    deadline.tv_nsec = (long)((t - (double)deadline.tv_sec) * 1e9);
    while (!j->done) {
        if (b->lim.timeout_s <= 0 || j->taken) {
            pthread_cond_wait(&b->done, &b->mu);
            continue;
        }
        if (pthread_cond_timedwait(&b->done, &b->mu, &deadline) == ETIMEDOUT && !j->taken && !j->done) {
            /* still queued: take it out, the request answers that it timed out */
            serve_job **p = &b->head, *prev = NULL;
            while (*p && *p != j) {
                prev = *p;
                p = &(*p)->next;
            }
            if (*p) {
                *p = j->next;
                if (b->tail == j)
                    b->tail = prev;
                b->queued--;
            }
            pthread_mutex_unlock(&b->mu);
            return -2;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return 0;
}

size_t serve_queue_depth(serve_batcher *b)
{
    pthread_mutex_lock(&b->mu);
    const size_t n = b->queued;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void serve_batcher_free(serve_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; b->workers && i < b->lim.workers; i++) {
        worker *w = &b->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        bert_result_free(w->res);
        bert_batch_free(w->batch);
        bert_ctx_free(w->ctx);
        free(w->texts);
        free(w->ids);
        free(w->id_lens);
    }
    free(b->workers);
    bert_head_free(b->embed);
    pthread_cond_destroy(&b->done);
    pthread_cond_destroy(&b->work);
    pthread_mutex_destroy(&b->mu);
    free(b);
}
