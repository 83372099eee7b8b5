/* Load a Hugging Face BERT folder, tokenize two sentences, run the encoder and print the [CLS]
 * vector's first values and, for a classifier, the softmax over its labels.
 * Built and run by the test suite (ctest label "docs"): docs/examples/encode MODEL_DIR */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <bert/bert.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_DIR\n", argv[0]);
        return 2;
    }
    char err[512];
    int rc = 1;
    bert_model *model = NULL;
    bert_ctx *ctx = NULL;
    bert_batch *batch = NULL;

    /* [snippet:run] */
    if (bert_model_load(argv[1], NULL, &model, err, sizeof err) != BERT_OK ||
        bert_ctx_new(model, NULL, &ctx, err, sizeof err) != BERT_OK || bert_batch_new(&batch, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    const char *texts[2] = {"A gripping, beautifully shot thriller.", "Two hours of my life I will never get back."};
    bert_text in[2] = {{texts[0], strlen(texts[0]), NULL, 0}, {texts[1], strlen(texts[1]), NULL, 0}};
    bert_encode_params ep = bert_encode_default_params();
    ep.truncation = BERT_TRUNCATION_LONGEST_FIRST;
    ep.max_length = 128;
    if (bert_batch_encode(batch, bert_model_tokenizer(model), in, 2, &ep) != BERT_OK) {
        fprintf(stderr, "%s\n", bert_batch_errmsg(batch));
        goto done;
    }
    if (bert_ctx_run_batch(ctx, batch, NULL) != BERT_OK) {
        fprintf(stderr, "%s\n", bert_ctx_errmsg(ctx));
        goto done;
    }
    bert_model_info info = bert_model_get_info(model);
    const float *hidden = bert_ctx_hidden(ctx, -1); /* [2, seq_len, hidden] */
    const float *logits = bert_ctx_logits(ctx);     /* [2, n_labels] for a sequence classifier */
    size_t T = bert_ctx_seq_len(ctx);
    for (size_t r = 0; r < 2; r++) {
        printf("%s\n  [CLS] %.4f %.4f %.4f ...\n", texts[r], hidden[r * T * info.hidden_size],
               hidden[r * T * info.hidden_size + 1], hidden[r * T * info.hidden_size + 2]);
        if (logits && info.problem == BERT_PROBLEM_SINGLE_LABEL) {
            const float *l = logits + r * info.n_labels;
            double max = l[0], sum = 0;
            for (size_t k = 1; k < info.n_labels; k++)
                max = l[k] > max ? l[k] : max;
            for (size_t k = 0; k < info.n_labels; k++)
                sum += exp(l[k] - max);
            for (size_t k = 0; k < info.n_labels; k++)
                printf("  %s %.3f\n", bert_model_label(model, k), exp(l[k] - max) / sum);
        }
    }
    /* [snippet:run] */
    rc = 0;
done:
    bert_batch_free(batch);
    bert_ctx_free(ctx);
    bert_model_free(model);
    return rc;
}
