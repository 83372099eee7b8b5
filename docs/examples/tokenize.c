/* Tokenize a sentence pair with truncation and print each token with its byte span.
 * Built and run by the test suite (ctest label "docs"): docs/examples/tokenize MODEL_DIR */
#include <stdio.h>
#include <string.h>

#include <bert/bert.h>

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "models/mini-sst2";
    char err[256];
    int rc = 1;
    bert_tokenizer *tok = NULL;
    bert_batch *batch = NULL;

    /* [snippet:load] */
    if (bert_tokenizer_load(dir, NULL, &tok, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "cannot load tokenizer: %s\n", err);
        goto done;
    }
    /* [snippet:load] */
    if (bert_batch_new(&batch, err, sizeof err) != BERT_OK)
        goto done;

    /* [snippet:encode] */
    const char *question = "Where is the Eiffel Tower?";
    const char *context = "The Eiffel Tower stands on the Champ de Mars in Paris, France.";
    bert_text input = {question, strlen(question), context, strlen(context)};
    bert_encode_params p = bert_encode_default_params();
    p.truncation = BERT_TRUNCATION_ONLY_SECOND; /* keep the question whole */
    p.max_length = 24;
    p.stride = 2;
    p.return_overflowing = 1; /* the rest of the context comes back as more rows */
    if (bert_batch_encode(batch, tok, &input, 1, &p) != BERT_OK) {
        fprintf(stderr, "encode failed: %s\n", bert_batch_errmsg(batch));
        goto done;
    }
    bert_batch_view v = bert_batch_get(batch);
    for (size_t r = 0; r < v.n_rows; r++) {
        printf("window %zu:", r);
        for (size_t i = 0; i < v.lengths[r]; i++) {
            size_t k = r * v.seq_len + i, n = 0;
            const char *s = bert_tokenizer_id_to_token(tok, v.ids[k], &n);
            printf(" %.*s", (int)n, s);
            if (v.sequence_ids[k] >= 0)
                printf("@%zu-%zu", v.offsets[k].begin, v.offsets[k].end);
        }
        printf("\n");
    }
    /* [snippet:encode] */
    rc = v.n_rows > 1 ? 0 : 1;
done:
    bert_batch_free(batch);
    bert_tokenizer_free(tok);
    return rc;
}
