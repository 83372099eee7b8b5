/* Built against the installed package: tokenizes one sentence with the installed default model. */
#include <stdio.h>
#include <string.h>

#include <bert/bert.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer MODEL_DIR\n");
        return 2;
    }
    if (bert_version_number() != BERT_VERSION_NUMBER) {
        fprintf(stderr, "header %s, library %s\n", BERT_VERSION_STRING, bert_version_string());
        return 1;
    }
    char err[256];
    bert_tokenizer *tok = NULL;
    if (bert_tokenizer_load(argv[1], NULL, &tok, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    bert_batch *b = NULL;
    bert_text t = {"Hello, world!", 13, NULL, 0};
    int rc = 1;
    if (bert_batch_new(&b, err, sizeof err) == BERT_OK && bert_batch_encode(b, tok, &t, 1, NULL) == BERT_OK) {
        bert_batch_view v = bert_batch_get(b);
        for (size_t i = 0; i < v.lengths[0]; i++)
            printf("%s%d", i ? " " : "", (int)v.ids[i]);
        printf("\n");
        rc = 0;
    }
    bert_batch_free(b);
    bert_tokenizer_free(tok);
    return rc;
}
