/* Serving from several threads: one model and one head, loaded once and shared (both are
 * immutable); each thread owns its context, batch and result, and classifies its share of the
 * texts. A context's own OpenMP thread count is set to 1 here, so that N threads use N cores;
 * one thread with a context of N threads is the other way to use them (lower latency per call).
 * Built and run by the test suite (ctest label "docs"): docs/examples/threads MODEL_DIR */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <bert/bert.h>

enum { N_THREADS = 4, N_TEXTS = 8 };

static const char *const texts[N_TEXTS] = {"A gripping, beautifully shot thriller.",
                                           "A tedious, overlong mess.",
                                           "The cast is wonderful.",
                                           "Two hours of my life I will never get back.",
                                           "Funny, warm and smart.",
                                           "The plot makes no sense at all.",
                                           "I would happily watch it again.",
                                           "Flat characters and a limp script."};

typedef struct worker {
    const bert_model *model; /* shared */
    const bert_head *head;   /* shared */
    size_t first, n;         /* this thread's texts */
    int32_t label[N_TEXTS];  /* out: the predicted label of each of its texts */
    float score[N_TEXTS];
    char err[512];
    int failed;
} worker;

/* [snippet:threads] */
static void *classify_share(void *arg)
{
    worker *w = arg;
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = 1; /* this thread's calls run on this thread alone */
    bert_ctx *ctx = NULL;
    bert_batch *batch = NULL;
    bert_result *res = NULL;
    w->failed = 1;
    if (bert_ctx_new(w->model, &cp, &ctx, w->err, sizeof w->err) != BERT_OK ||
        bert_batch_new(&batch, w->err, sizeof w->err) != BERT_OK ||
        bert_result_new(&res, w->err, sizeof w->err) != BERT_OK)
        goto done;
    bert_text in[N_TEXTS];
    for (size_t i = 0; i < w->n; i++)
        in[i] = (bert_text){texts[w->first + i], strlen(texts[w->first + i]), NULL, 0};
    bert_encode_params ep = bert_encode_default_params();
    if (bert_batch_encode(batch, bert_model_tokenizer(w->model), in, w->n, &ep) != BERT_OK) {
        snprintf(w->err, sizeof w->err, "%s", bert_batch_errmsg(batch));
        goto done;
    }
    if (bert_head_run(w->head, ctx, batch, in, res) != BERT_OK) {
        snprintf(w->err, sizeof w->err, "%s", bert_result_errmsg(res));
        goto done;
    }
    for (size_t i = 0; i < w->n; i++) {
        w->label[i] = bert_result_label(res, i);
        w->score[i] = bert_result_scores(res, i)[w->label[i]];
    }
    w->failed = 0;
done:
    bert_result_free(res);
    bert_batch_free(batch);
    bert_ctx_free(ctx);
    return NULL;
}
/* [snippet:threads] */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_DIR\n", argv[0]);
        return 2;
    }
    char err[512];
    bert_model *model = NULL;
    bert_head *head = NULL;
    int rc = 1;
    if (bert_model_load(argv[1], NULL, &model, err, sizeof err) != BERT_OK ||
        bert_head_new(model, NULL, &head, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    if (bert_head_task(head) != BERT_TASK_CLASSIFY) {
        fprintf(stderr, "%s: a sequence classifier is needed, this model's head is %s\n", argv[1],
                bert_head_name(head));
        goto done;
    }
    worker w[N_THREADS];
    pthread_t tid[N_THREADS];
    int started = 0;
    for (int t = 0; t < N_THREADS; t++) {
        w[t] = (worker){.model = model, .head = head, .first = (size_t)t * N_TEXTS / N_THREADS};
        w[t].n = (size_t)(t + 1) * N_TEXTS / N_THREADS - w[t].first;
        if (pthread_create(&tid[t], NULL, classify_share, &w[t]) != 0) {
            fprintf(stderr, "cannot start thread %d\n", t);
            break;
        }
        started++;
    }
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    if (started < N_THREADS)
        goto done;
    for (int t = 0; t < N_THREADS; t++) {
        if (w[t].failed) {
            fprintf(stderr, "thread %d: %s\n", t, w[t].err);
            goto done;
        }
        for (size_t i = 0; i < w[t].n; i++)
            printf("%s\t%.4f\t%s\n", bert_model_label(model, (size_t)w[t].label[i]), w[t].score[i],
                   texts[w[t].first + i]);
    }
    rc = 0;
done:
    bert_head_free(head); /* the head borrows the model: free it first */
    bert_model_free(model);
    return rc;
}
