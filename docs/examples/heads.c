/* The task heads: the head a checkpoint was trained for (from config.json "architectures"), run on
 * a few texts, each row printed as its task gives it: the labels' scores for a classifier, the
 * entities for NER, the predictions for each [MASK], the size of a sentence vector.
 * Built and run by the test suite (ctest label "docs") on the default sentiment model and on the
 * shared CoNLL NER checkpoint: docs/examples/heads MODEL_DIR [TEXT...] */
#include <stdio.h>
#include <string.h>

#include <bert/bert.h>

static void print_row(const bert_head *head, const bert_model *model, const bert_result *res, size_t row)
{
    size_t n = 0;
    switch (bert_head_task(head)) {
    case BERT_TASK_CLASSIFY:
        for (size_t k = 0; k < bert_result_n_scores(res); k++)
            printf("  %s %.4f%s\n", bert_model_label(model, k), bert_result_scores(res, row)[k],
                   (int32_t)k == bert_result_label(res, row) ? "  <-" : "");
        break;
    case BERT_TASK_NER: {
        const bert_entity *e = bert_result_entities(res, row, &n);
        for (size_t i = 0; i < n; i++)
            printf("  %-6s %.4f  '%s' (characters %zu-%zu)\n", e[i].label, e[i].score, e[i].word, e[i].chars.begin,
                   e[i].chars.end);
        break;
    }
    case BERT_TASK_FILL_MASK: {
        const bert_fill *f = bert_result_fills(res, row, &n);
        for (size_t i = 0; i < n; i++)
            printf("  position %zu: %s %.4f\n", f[i].position, f[i].token, f[i].score);
        break;
    }
    case BERT_TASK_EMBED:
        printf("  a vector of %zu floats\n", bert_result_dim(res));
        break;
    case BERT_TASK_RERANK:
    case BERT_TASK_ZERO_SHOT: /* never a checkpoint's own head: docs/examples/retrieval.c shows them */
        break;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_DIR [TEXT...]\n", argv[0]);
        return 2;
    }
    static const char *const fallback[] = {"A gripping, beautifully shot thriller.",
                                           "George Washington went to Washington with Acme Corp."};
    const char *const *texts = argc > 2 ? (const char *const *)argv + 2 : fallback;
    const size_t n_texts = argc > 2 ? (size_t)argc - 2 : 2;
    if (n_texts > 16) {
        fprintf(stderr, "at most 16 texts\n");
        return 2;
    }
    char err[512];
    int rc = 1;
    bert_model *model = NULL;
    bert_ctx *ctx = NULL;
    bert_batch *batch = NULL;
    bert_head *head = NULL;
    bert_result *res = NULL;

    /* [snippet:heads] */
    bert_head_params hp = bert_head_default_params(); /* name NULL: the checkpoint's own task */
    hp.aggregation = BERT_AGG_SIMPLE;                 /* ner: whole entities, as the pipeline's "simple" */
    if (bert_model_load(argv[1], NULL, &model, err, sizeof err) != BERT_OK ||
        bert_head_new(model, &hp, &head, err, sizeof err) != BERT_OK ||
        bert_ctx_new(model, NULL, &ctx, err, sizeof err) != BERT_OK ||
        bert_batch_new(&batch, err, sizeof err) != BERT_OK || bert_result_new(&res, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    bert_text in[16];
    for (size_t i = 0; i < n_texts; i++)
        in[i] = (bert_text){texts[i], strlen(texts[i]), NULL, 0};
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_LONGEST_FIRST; /* long texts are cut to 128 tokens */
    ep.max_length = 128;
    if (bert_batch_encode(batch, bert_model_tokenizer(model), in, n_texts, &ep) != BERT_OK) {
        fprintf(stderr, "%s\n", bert_batch_errmsg(batch));
        goto done;
    }
    /* the encoder and the head in one call; NER needs the texts for its words and offsets */
    if (bert_head_run(head, ctx, batch, in, res) != BERT_OK) {
        fprintf(stderr, "%s\n", bert_result_errmsg(res));
        goto done;
    }
    printf("head: %s\n", bert_head_name(head));
    for (size_t row = 0; row < bert_result_n_rows(res); row++) {
        printf("%s\n", texts[row]);
        print_row(head, model, res, row);
    }
    /* [snippet:heads] */
    rc = 0;
done:
    bert_result_free(res);
    bert_batch_free(batch);
    bert_ctx_free(ctx);
    bert_head_free(head);
    bert_model_free(model);
    return rc;
}
