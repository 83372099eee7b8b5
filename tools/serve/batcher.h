/* bert-serve's dynamic batching: requests wait in one queue; worker threads, each with its own
 * context, take as many queued jobs of one kind as fit a token budget and a request count, run
 * them as one padding-free batch, and wake each job's request as soon as its batch is done. */
#ifndef BERT_SERVE_BATCHER_H
#define BERT_SERVE_BATCHER_H

#include <pthread.h>
#include <stddef.h>

#include <bert/bert.h>

typedef enum serve_kind {
    SERVE_EMBED = 0,    /* the embed head's vectors (the folder's pipeline) */
    SERVE_LOGITS = 1,   /* a sequence classifier's logits (predict, rerank) */
    SERVE_HEAD = 2,     /* any head into the job's own result (ner, fill-mask, zero-shot): runs alone */
    SERVE_EMBED_IDS = 3 /* the embed head on token ids the request gives (OpenAI's token input) */
} serve_kind;

typedef struct serve_job {
    serve_kind kind;
    const bert_text *texts;    /* the request's, alive until serve_submit returns */
    const int32_t *const *ids; /* SERVE_EMBED_IDS: n rows of token ids, and their lengths */
    const size_t *id_lens;
    size_t n;
    size_t tokens;         /* counted by the request: the budget's unit */
    const bert_head *head; /* SERVE_HEAD: the head, and the request's result it fills */
    bert_result *res;
    /* results: out[n * dim] (malloc'd by the worker, freed by the request) */
    float *out;
    size_t dim;
    bert_status status;
    char err[512];
    double queued_s, run_s; /* seconds waiting in the queue and in its batch */
    size_t batch_requests;  /* how many requests shared its batch */
    /* private */
    int done, taken;
    double t_queued;
    struct serve_job *next;
} serve_job;

typedef struct serve_limits {
    size_t workers, threads;   /* worker contexts, compute threads each */
    size_t max_batch_tokens;   /* tokens per batch (a single larger request runs alone) */
    size_t max_batch_requests; /* requests per batch */
    size_t max_queue;          /* queued + running requests; beyond: refused */
    double timeout_s;          /* the longest a request waits in the queue (0: no limit); a batch
                                  that started is always finished */
} serve_limits;

typedef struct serve_batcher serve_batcher;

/* Starts the workers for model m (an embed head always; logits where m is a sequence classifier). */
int serve_batcher_new(serve_batcher **out, const bert_model *m, const serve_limits *lim, const bert_encode_params *enc,
                      char *err, size_t err_size);
/* Queues j and waits for its batch: 0 (j->status says how it went), -1 at once when the queue is
 * full or the batcher is stopping (the request answers 429), -2 when it waited timeout_s in the
 * queue without a worker taking it (it is taken out again: 503). */
int serve_submit(serve_batcher *b, serve_job *j);
/* Requests queued or running now. */
size_t serve_queue_depth(serve_batcher *b);
/* Lets the queued jobs finish, then stops and frees the workers. */
void serve_batcher_free(serve_batcher *b);

/* Seconds on a monotonic clock. */
double serve_now(void);

#endif
