/* Embeddings, reranking and zero-shot classification through the C API: a sentence-transformers
 * folder's vector for a prompted query, a cross-encoder ranking three passages, and an NLI model's
 * zero-shot labels. Built and run by the test suite on the shared fixture models:
 * docs/examples/retrieval SHARED_DIR */
#include <stdio.h>
#include <string.h>

#include <bert/bert.h>

/* loads DIR/models/NAME and makes a head, a context, a batch and a result */
static int open_model(const char *shared, const char *name, const bert_head_params *hp, bert_model **m, bert_head **h,
                      bert_ctx **ctx, bert_batch **b, bert_result **r)
{
    char dir[1024], err[512];
    snprintf(dir, sizeof dir, "%s/models/%s", shared, name);
    if (bert_model_load(dir, NULL, m, err, sizeof err) != BERT_OK ||
        bert_head_new(*m, hp, h, err, sizeof err) != BERT_OK ||
        bert_ctx_new(*m, NULL, ctx, err, sizeof err) != BERT_OK || bert_batch_new(b, err, sizeof err) != BERT_OK ||
        bert_result_new(r, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static void close_model(bert_model *m, bert_head *h, bert_ctx *ctx, bert_batch *b, bert_result *r)
{
    bert_result_free(r);
    bert_batch_free(b);
    bert_ctx_free(ctx);
    bert_head_free(h);
    bert_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SHARED_DIR\n", argv[0]);
        return 2;
    }
    int rc = 1;
    bert_model *m = NULL;
    bert_head *h = NULL;
    bert_ctx *ctx = NULL;
    bert_batch *b = NULL;
    bert_result *r = NULL;

    /* [snippet:embed] */
    bert_head_params hp = bert_head_default_params();
    hp.name = "embed"; /* the folder's own Pooling, Dense and Normalize modules */
    if (open_model(argv[1], "tiny-sbert-max-prompts", &hp, &m, &h, &ctx, &b, &r) != 0)
        goto done;
    char text[256];
    snprintf(text, sizeof text, "%s%s", bert_model_prompt(m, "query"), "A man with a hard hat is dancing.");
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    ep.max_length = bert_model_st_info(m).max_seq_length;
    bert_text in = {text, strlen(text), NULL, 0};
    if (bert_batch_encode(b, bert_model_tokenizer(m), &in, 1, &ep) != BERT_OK ||
        bert_head_run(h, ctx, b, &in, r) != BERT_OK)
        goto done;
    const float *v = bert_result_vector(r, 0);
    printf("embed: \"%s\" -> %zu floats: %.4f %.4f %.4f ...\n", text, bert_result_dim(r), v[0], v[1], v[2]);
    /* [snippet:embed] */
    close_model(m, h, ctx, b, r);
    m = NULL;

    /* [snippet:rerank] */
    hp = bert_head_default_params();
    hp.name = "rerank"; /* CrossEncoder.predict: sigmoid for a one-label model */
    if (open_model(argv[1], "tiny-crossencoder", &hp, &m, &h, &ctx, &b, &r) != 0)
        goto done;
    const char *query = "where is the eiffel tower";
    const char *passages[3] = {"The Eiffel Tower is in Paris.", "Cats sleep a lot.", "Paris is the capital of France."};
    bert_text pairs[3];
    for (size_t i = 0; i < 3; i++)
        pairs[i] = (bert_text){query, strlen(query), passages[i], strlen(passages[i])};
    if (bert_batch_encode(b, bert_model_tokenizer(m), pairs, 3, NULL) != BERT_OK ||
        bert_head_run(h, ctx, b, pairs, r) != BERT_OK)
        goto done;
    float scores[3];
    size_t order[3];
    for (size_t i = 0; i < 3; i++)
        scores[i] = bert_result_scores(r, i)[0];
    bert_rank(scores, 3, order);
    for (size_t i = 0; i < 3; i++)
        printf("rerank: %zu. passage %zu (%.4f) %s\n", i + 1, order[i], scores[order[i]], passages[order[i]]);
    /* [snippet:rerank] */
    close_model(m, h, ctx, b, r);
    m = NULL;

    /* [snippet:zero-shot] */
    hp = bert_head_default_params();
    hp.name = "zero-shot";
    const char *labels[2] = {"positive", "negative"};
    hp.labels = labels;
    hp.n_labels = 2;
    if (open_model(argv[1], "tiny-nli-zeroshot", &hp, &m, &h, &ctx, &b, &r) != 0)
        goto done;
    const char *review = "it 's a charming and often affecting journey . ";
    bert_text t = {review, strlen(review), NULL, 0};
    if (bert_batch_encode(b, bert_model_tokenizer(m), &t, 1, NULL) != BERT_OK ||
        bert_head_run(h, ctx, b, &t, r) != BERT_OK)
        goto done;
    size_t best[2];
    bert_rank(bert_result_scores(r, 0), 2, best);
    for (size_t i = 0; i < 2; i++)
        printf("zero-shot: %s %.4f\n", labels[best[i]], bert_result_scores(r, 0)[best[i]]);
    /* [snippet:zero-shot] */
    rc = 0;
done:
    if (rc != 0 && r)
        fprintf(stderr, "%s%s\n", bert_result_errmsg(r), b ? bert_batch_errmsg(b) : "");
    if (m)
        close_model(m, h, ctx, b, r);
    return rc;
}
