/* libFuzzer target: bert-classify's input record reader (text, TSV columns, JSONL fields) and its
 * reranking groups ({"query", "passages": [...]}). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    reader_opts o;
    memset(&o, 0, sizeof o);
    o.format = (reader_format)(data[0] % 3);
    o.text_col = 1 + ((data[0] >> 2) & 3);
    o.pair_col = (data[0] >> 4) & 3;
    o.label_col = (data[0] >> 6) & 3;
    o.pair_field = (data[0] & 0x10) ? "pair" : NULL;
    o.label_field = (data[0] & 0x40) ? "label" : NULL;
    reader_record rec;
    char err[256];
    const char *line = (const char *)data + 1;
    if (reader_parse(&o, line, size - 1, &rec, err, sizeof err) == 0) {
        if (!rec.a && o.format != 2)
            abort();
        if (o.format != 2 && rec.a && (rec.a < line || rec.a + rec.a_len > line + size - 1))
            abort();
        reader_record_free(&rec);
    }
    /* a reranking group: on success a query and at least one passage, each a string of the
     * parsed line's own */
    reader_group g;
    if (reader_parse_group(line, size - 1, "query", "passages", &g, err, sizeof err) == 0) {
        if (!g.query || g.n == 0 || !g.passages)
            abort();
        for (size_t i = 0; i < g.n; i++)
            if (!g.passages[i] || strlen(g.passages[i]) > g.passage_lens[i])
                abort();
        reader_group_free(&g);
    }
    /* --on-invalid for JSONL: the count and the in-place fix of lone surrogate escapes agree, keep
     * the length, and leave none behind */
    char *copy = malloc(size);
    if (copy) {
        memcpy(copy, line, size - 1);
        const size_t n = reader_lone_surrogates(copy, size - 1, 0);
        if (reader_lone_surrogates(copy, size - 1, 1) != n || reader_lone_surrogates(copy, size - 1, 0) != 0)
            abort();
        free(copy);
    }
    return 0;
}
