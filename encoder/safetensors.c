/* model.safetensors, mapped read-only and validated the way the format demands before any tensor
 * is read: an 8-byte little-endian header length within the file and under 100 MB, a JSON object
 * header, known dtypes, shape x dtype size equal to each byte range, and ranges that tile the data
 * area exactly (inside it, in order, no overlap, no hole). Sharded checkpoints are opened through
 * model.safetensors.index.json. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "encoder.h"

#define MAX_HEADER (100u * 1000u * 1000u)

/* Every dtype the safetensors format defines; only the float ones can become weights, the others
 * (such as an old checkpoint's I64 position_ids buffer) are accepted and ignored unless needed. */
static const struct {
    const char *name;
    size_t size;
    int id; /* bert__dtype, or -1 */
} dtypes[] = {
    {"F32", 4, BERT__F32}, {"F16", 2, BERT__F16}, {"BF16", 2, BERT__BF16}, {"F64", 8, -1},     {"I64", 8, -1},
    {"I32", 4, -1},        {"I16", 2, -1},        {"I8", 1, -1},           {"U8", 1, -1},      {"U16", 2, -1},
    {"U32", 4, -1},        {"U64", 8, -1},        {"BOOL", 1, -1},         {"F8_E4M3", 1, -1}, {"F8_E5M2", 1, -1},
};

static int cmp_begin(const void *a, const void *b)
{
    const bert__tensor *x = a, *y = b;
    return (x->data > y->data) - (x->data < y->data);
}

void bert__checkpoint_close(bert__checkpoint *ck)
{
    for (size_t i = 0; i < ck->n; i++)
        bert__free(ck->tensors[i].name);
    bert__free(ck->tensors);
    for (size_t i = 0; i < ck->n_files; i++) {
        if (ck->maps && ck->maps[i])
            munmap(ck->maps[i], ck->map_len[i]);
        if (ck->paths)
            bert__free(ck->paths[i]);
    }
    bert__free(ck->maps);
    bert__free(ck->map_len);
    bert__free(ck->paths);
    memset(ck, 0, sizeof *ck);
}

const bert__tensor *bert__checkpoint_find(const bert__checkpoint *ck, const char *name)
{
    for (size_t i = 0; i < ck->n; i++)
        if (!strcmp(ck->tensors[i].name, name))
            return &ck->tensors[i];
    return NULL;
}

bert_status bert__safetensors_parse(const unsigned char *data, size_t len, const char *name, int file,
                                    bert__checkpoint *ck, char *errbuf, size_t errbuf_size)
{
    bert_status st = BERT_OK;
    json_t *root = NULL;
    json_error_t jerr;

    if (len < 8)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                "%s: file of %zu bytes is too short for a safetensors header length", name, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | data[i];
    if (hlen > MAX_HEADER)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                "%s: header length %llu exceeds the 100 MB limit of the format", name,
                                (unsigned long long)hlen);
    if (hlen > len - 8)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                "%s: header length %llu runs past the end of the file (%zu bytes): truncated file?",
                                name, (unsigned long long)hlen, len);
    root = json_loadb((const char *)data + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: header is not valid JSON at byte %d: %s", name,
                                jerr.position + 8, jerr.text);
    if (!json_is_object(root)) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: header is not a JSON object", name);
        goto fail;
    }
    const unsigned char *base = data + 8 + hlen;
    const size_t data_len = len - 8 - (size_t)hlen;
    const size_t first = ck->n;
    size_t n_new = json_object_size(root);
    bert__tensor *t = bert__reallocarray(ck->tensors, ck->n + n_new, sizeof *t);
    if (!t) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating %zu tensor entries", name, n_new);
        goto fail;
    }
    ck->tensors = t;

    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(val)) {
                st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: __metadata__ is not an object", name);
                goto fail;
            }
            continue;
        }
        json_t *dt = json_object_get(val, "dtype"), *shape = json_object_get(val, "shape"),
               *offs = json_object_get(val, "data_offsets");
        if (!json_is_object(val) || !json_is_string(dt) || !json_is_array(shape) || !json_is_array(offs) ||
            json_array_size(offs) != 2) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                  "%s: tensor '%s' lacks a string \"dtype\", a \"shape\" list or two \"data_offsets\"",
                                  name, key);
            goto fail;
        }
        size_t k;
        for (k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++)
            if (!strcmp(dtypes[k].name, json_string_value(dt)))
                break;
        if (k == sizeof dtypes / sizeof dtypes[0]) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                  "%s: tensor '%s' has unknown dtype \"%s\" (the format defines F32, F16, BF16, F64, "
                                  "I8..I64, U8..U64, BOOL, F8_E4M3, F8_E5M2)",
                                  name, key, json_string_value(dt));
            goto fail;
        }
        bert__tensor *x = &ck->tensors[ck->n];
        memset(x, 0, sizeof *x);
        x->dtype = dtypes[k].id < 0 ? (bert__dtype)-1 : (bert__dtype)dtypes[k].id;
        x->file = file;
        size_t nd = json_array_size(shape);
        if (nd > 4) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                                  "%s: tensor '%s' has %zu dimensions (at most 4)", name, key, nd);
            goto fail;
        }
        size_t count = 1;
        int overflow = 0;
        for (size_t i = 0; i < nd; i++) {
            json_t *d = json_array_get(shape, i);
            if (!json_is_integer(d) || json_integer_value(d) < 0) {
                st =
                    bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                     "%s: tensor '%s' has a shape entry that is not a non-negative integer", name, key);
                goto fail;
            }
            x->shape[i] = (size_t)json_integer_value(d);
            if (x->shape[i] && count > SIZE_MAX / x->shape[i])
                overflow = 1;
            else
                count *= x->shape[i];
        }
        x->ndim = nd;
        json_t *b0 = json_array_get(offs, 0), *b1 = json_array_get(offs, 1);
        if (!json_is_integer(b0) || !json_is_integer(b1) || json_integer_value(b0) < 0 ||
            json_integer_value(b1) < json_integer_value(b0)) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                  "%s: tensor '%s' has data_offsets that are not two increasing non-negative integers",
                                  name, key);
            goto fail;
        }
        size_t begin = (size_t)json_integer_value(b0), end = (size_t)json_integer_value(b1);
        if (overflow || count > SIZE_MAX / dtypes[k].size || count * dtypes[k].size != end - begin) {
            char sh[96];
            size_t w = (size_t)snprintf(sh, sizeof sh, "[");
            for (size_t i = 0; i < nd && w < sizeof sh; i++)
                w += (size_t)snprintf(sh + w, sizeof sh - w, i ? ", %zu" : "%zu", x->shape[i]);
            if (w < sizeof sh)
                snprintf(sh + w, sizeof sh - w, "]");
            char need[32];
            if (overflow || count > SIZE_MAX / dtypes[k].size)
                snprintf(need, sizeof need, "more than fit in memory");
            else
                snprintf(need, sizeof need, "%zu bytes", count * dtypes[k].size);
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                  "%s: tensor '%s': shape %s of %s needs %s but data_offsets [%zu, %zu] hold %zu", name,
                                  key, sh, dtypes[k].name, need, begin, end, end - begin);
            goto fail;
        }
        if (end > data_len) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                  "%s: tensor '%s' data_offsets [%zu, %zu] run past the data area of %zu bytes "
                                  "(file offset %zu > file size %zu): truncated file?",
                                  name, key, begin, end, data_len, 8 + (size_t)hlen + end, len);
            goto fail;
        }
        x->data = base + begin;
        x->nbytes = end - begin;
        x->name = bert__strndup(key, strlen(key));
        if (!x->name) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating tensor names", name);
            goto fail;
        }
        ck->n++;
    }
    /* The ranges must tile the data area: sorted by start, each begins where the previous ended. */
    qsort(ck->tensors + first, ck->n - first, sizeof *ck->tensors, cmp_begin);
    size_t pos = 0;
    for (size_t i = first; i < ck->n; i++) {
        const bert__tensor *x = &ck->tensors[i];
        size_t b = (size_t)(x->data - base);
        if (b < pos) {
            st =
                bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                 "%s: tensor '%s' at data offset %zu overlaps the tensor before it (which ends at %zu)",
                                 name, x->name, b, pos);
            goto fail;
        }
        if (b > pos) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                  "%s: %zu bytes at data offset %zu belong to no tensor (tensor '%s' starts at %zu)",
                                  name, b - pos, pos, x->name, b);
            goto fail;
        }
        pos = b + x->nbytes;
    }
    if (pos != data_len) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                              "%s: the tensors end at data offset %zu but the data area has %zu bytes", name, pos,
                              data_len);
        goto fail;
    }
fail:
    json_decref(root);
    return st;
}

static bert_status map_file(bert__checkpoint *ck, const char *path, char *errbuf, size_t errbuf_size)
{
    size_t i = ck->n_files;
    void **maps = bert__reallocarray(ck->maps, i + 1, sizeof *maps);
    if (maps)
        ck->maps = maps;
    size_t *lens = bert__reallocarray(ck->map_len, i + 1, sizeof *lens);
    if (lens)
        ck->map_len = lens;
    char **paths = bert__reallocarray(ck->paths, i + 1, sizeof *paths);
    if (paths)
        ck->paths = paths;
    if (!maps || !lens || !paths)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating the file table", path);
    ck->maps[i] = NULL;
    ck->map_len[i] = 0;
    ck->paths[i] = bert__strndup(path, strlen(path));
    ck->n_files++;
    if (!ck->paths[i])
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating the path", path);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_IO, "%s: not a regular file", path);
    }
    size_t len = (size_t)sb.st_size;
    if (len == 0) {
        close(fd);
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: empty file", path);
    }
    /* No MAP_POPULATE: faulting the file in as tensors are converted (and released) keeps the peak
     * resident set near one F32 copy, for a negligible cost in load time. */
    void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd);
    if (p == MAP_FAILED)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_IO, "%s: cannot map %zu bytes: %s", path, len,
                                strerror(err));
    ck->maps[i] = p;
    ck->map_len[i] = len;
    return bert__safetensors_parse(p, len, path, (int)i, ck, errbuf, errbuf_size);
}

static bert_status open_sharded(const char *dir, const char *index_path, bert__checkpoint *ck, char *errbuf,
                                size_t errbuf_size)
{
    bert_status st = BERT_OK;
    json_error_t jerr;
    json_t *root = json_load_file(index_path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s:%d:%d: invalid JSON: %s", index_path, jerr.line,
                                jerr.column, jerr.text);
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm) || json_object_size(wm) == 0) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: \"weight_map\" must be a non-empty object",
                              index_path);
        goto fail;
    }
    const char *key;
    json_t *val;
    json_object_foreach(wm, key, val)
    {
        const char *file = json_string_value(val);
        if (!file || strchr(file, '/') || !strcmp(file, "..")) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                  "%s: weight_map entry for '%s' must be a file name in the same folder", index_path,
                                  key);
            goto fail;
        }
        char *path = bert__path_join(dir, file);
        if (!path) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating a path", index_path);
            goto fail;
        }
        int seen = 0;
        for (size_t i = 0; i < ck->n_files && !seen; i++)
            seen = !strcmp(ck->paths[i], path);
        if (!seen)
            st = map_file(ck, path, errbuf, errbuf_size);
        bert__free(path);
        if (st != BERT_OK)
            goto fail;
    }
    json_object_foreach(wm, key, val)
    {
        const bert__tensor *t = bert__checkpoint_find(ck, key);
        if (!t || strcmp(strrchr(ck->paths[t->file], '/') + 1, json_string_value(val)) != 0) {
            st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT, "%s: tensor '%s' is not in shard %s", index_path,
                                  key, json_string_value(val));
            goto fail;
        }
    }
fail:
    json_decref(root);
    return st;
}

bert_status bert__checkpoint_open(const char *dir, bert__checkpoint *ck, char *errbuf, size_t errbuf_size)
{
    memset(ck, 0, sizeof *ck);
    char *single = bert__path_join(dir, "model.safetensors");
    char *index = bert__path_join(dir, "model.safetensors.index.json");
    char *bin = bert__path_join(dir, "pytorch_model.bin");
    bert_status st = BERT_OK;
    if (!single || !index || !bin) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating paths", dir);
    } else if (access(single, F_OK) == 0) {
        st = map_file(ck, single, errbuf, errbuf_size);
    } else if (access(index, F_OK) == 0) {
        st = open_sharded(dir, index, ck, errbuf, errbuf_size);
    } else if (access(bin, F_OK) == 0) {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_UNSUPPORTED,
                              "%s: only pytorch_model.bin (a pickle) is here; libbert reads safetensors only. Convert "
                              "it once with transformers: AutoModel.from_pretrained(dir).save_pretrained(dir, "
                              "safe_serialization=True)",
                              dir);
    } else {
        st = bert__errbuf_set(errbuf, errbuf_size, BERT_E_IO,
                              "%s: no model.safetensors or model.safetensors.index.json", dir);
    }
    bert__free(single);
    bert__free(index);
    bert__free(bin);
    if (st != BERT_OK)
        bert__checkpoint_close(ck);
    return st;
}
