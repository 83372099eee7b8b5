/* Tensor names as transformers writes them (with or without the "bert." prefix, the old
 * LayerNorm.gamma/beta spelling), checked against config.json, converted once to F32 into one
 * arena the model owns, with query/key/value fused into one [3H, H] matrix. The file pages of each
 * tensor are released as soon as it is converted, so loading never holds two F32 copies. With
 * BERT_WEIGHTS_MAPPED an F32 file's layer and pooler matrices are not copied: they stay in the
 * mapping and dnnl_sgemm reads them there. */
#define _DEFAULT_SOURCE /* madvise */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "encoder.h"

/* The four matmul weights of a layer, packed in one blocked layout each (the same for every layer),
 * and the pooler's, packed in F32 whatever the precision: it runs on B rows read T * H apart, where
 * oneDNN's plain-weights kernel is an order of magnitude slower than on packed ones. */
enum { W_QKV, W_ATTN_OUT, W_INTER, W_OUT, W_POOLER, W_KINDS };

typedef struct loader {
    bert_model *m;
    const char *file;     /* for messages */
    float *next;          /* bump pointer into m->arena */
    unsigned char *pnext; /* bump pointer into m->packed */
    float *tmp;           /* F32 scratch: the largest weight a reorder packs (fusing QKV, converting
                           * F16/BF16), or per thread the pieces a transpose reads */
    size_t tmp_floats;
    size_t in_place_bytes; /* F32 tensors used in the mapping */
    int fd, fd_file;       /* the shard open for pread, and its index */
    float *qscale;         /* s8: quantisation scale per output channel of the weight being packed */
    dnnl_engine_t eng;
    dnnl_stream_t stream;
    dnnl_memory_desc_t fmt[W_KINDS];
    size_t fmt_bytes[W_KINDS];
    int mapped[W_KINDS];      /* BERT_WEIGHTS_MAPPED applies to this kind */
    size_t plain_ld[W_KINDS]; /* the kind's packed layout is plain [in][out] with this row stride, else 0 */
    int qgemm[W_KINDS];       /* the kind is packed for bert__qgemm */
    char *errbuf;
    size_t errbuf_size;
} loader;

#define ALIGN64(n) (((n) + 63) & ~(size_t)63)

static void shape_str(const size_t *s, size_t nd, char *out, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(out + k, n - k, "[");
    for (size_t i = 0; i < nd && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, i ? ",%zu" : "%zu", s[i]);
    if (k < n)
        snprintf(out + k, n - k, "]");
}

/* Finds a tensor under HF's spellings: with and without the family's prefix ("bert.",
 * "roberta.", ...: a task checkpoint nests the base model under it, a bare one does not), and the
 * old LayerNorm.gamma/beta. */
static const bert__tensor *find_in(const bert__checkpoint *ck, const char *prefix, const char *name, char *found,
                                   size_t found_size)
{
    const char *const prefixes[] = {prefix, ""};
    for (int p = 0; p < 2; p++) {
        for (int old = 0; old < 2; old++) {
            char n[256];
            snprintf(n, sizeof n, "%s%s", prefixes[p], name);
            if (old) {
                char *dot = strrchr(n, '.');
                if (!strstr(n, "LayerNorm.") || !dot)
                    continue;
                if (!strcmp(dot, ".weight"))
                    strcpy(dot, ".gamma");
                else if (!strcmp(dot, ".bias"))
                    strcpy(dot, ".beta");
                else
                    continue;
            }
            const bert__tensor *t = bert__checkpoint_find(ck, n);
            if (t) {
                snprintf(found, found_size, "%s", n);
                return t;
            }
        }
    }
    return NULL;
}

static const bert__tensor *find(const bert_model *m, const char *name, char *found, size_t found_size)
{
    return find_in(&m->ck, m->cfg.fam->prefix, name, found, found_size);
}

/* fmt with its "%zu" replaced by the layer (or group) number l, then suffix (".weight", ".bias", ""):
 * the table's names are data, not format strings */
static const char *layer_name(char *buf, size_t n, const char *fmt, size_t l, const char *suffix)
{
    const char *at = strstr(fmt, "%zu");
    const int head = at ? (int)(at - fmt) : (int)strlen(fmt);
    if (at)
        snprintf(buf, n, "%.*s%zu%s%s", head, fmt, l, at + 3, suffix);
    else
        snprintf(buf, n, "%s%s", fmt, suffix);
    return buf;
}

/* Finds tensor `name` and checks that it has the expected shape ([d0] when d1 is 0). */
static bert_status locate(loader *L, const char *name, size_t d0, size_t d1, const bert__tensor **out)
{
    const bert_model *m = L->m;
    char found[256];
    const bert__tensor *t = find(m, name, found, sizeof found);
    if (!t)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_FORMAT,
                                "%s: tensor '%s' (or '%s%s') is missing; %s (model_type \"%s\") needs it", L->file,
                                name, m->cfg.fam->prefix, name, m->cfg.info.arch_name, m->cfg.fam->model_type);
    const size_t want[2] = {d0, d1};
    const size_t nd = d1 ? 2 : 1;
    if (t->ndim != nd || t->shape[0] != d0 || (d1 && t->shape[1] != d1)) {
        char got[64], exp[64];
        shape_str(t->shape, t->ndim, got, sizeof got);
        shape_str(want, nd, exp, sizeof exp);
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_SHAPE,
                                "%s: tensor '%s' has shape %s, expected %s from config.json", L->file, found, got, exp);
    }
    if ((int)t->dtype < 0)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_UNSUPPORTED,
                                "%s: tensor '%s' is not a floating-point tensor (weights must be F32, F16 or BF16)",
                                L->file, found);
    *out = t;
    return BERT_OK;
}

/* Values [from, from + n) of tensor t as F32 into dst. */
static void convert_part(const bert__tensor *t, size_t from, float *dst, size_t n)
{
    if (t->dtype == BERT__F32)
        memcpy(dst, t->data + from * sizeof(float), n * sizeof *dst);
    else if (t->dtype == BERT__F16)
        bert__f16_to_f32((const uint16_t *)(const void *)t->data + from, dst, n);
    else
        bert__bf16_to_f32((const uint16_t *)(const void *)t->data + from, dst, n);
}

static void convert(const bert__tensor *t, float *dst, size_t n)
{
    convert_part(t, 0, dst, n);
}

/* What we keep is a converted copy: hand the file pages back now (whole pages only), so that
 * loading never holds two copies. */
static void release(const bert__tensor *t)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)t->data + page - 1) & ~(page - 1), b = ((uintptr_t)t->data + t->nbytes) & ~(page - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED);
}

/* The shard holding t, open for pread. */
static bert_status open_shard(loader *L, const bert__tensor *t)
{
    const bert__checkpoint *ck = &L->m->ck;
    if (L->fd_file == t->file)
        return BERT_OK;
    if (L->fd >= 0)
        close(L->fd);
    L->fd = open(ck->paths[t->file], O_RDONLY | O_CLOEXEC);
    L->fd_file = t->file;
    if (L->fd < 0)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_IO, "%s: cannot reopen: %s", ck->paths[t->file],
                                strerror(errno));
    return BERT_OK;
}

static size_t shard_offset(const loader *L, const bert__tensor *t)
{
    return (size_t)(t->data - (const unsigned char *)L->m->ck.maps[t->file]);
}

/* Where a copy of t should start in a scratch aligned to 64 bytes, in floats: at the offset the
 * file's bytes have within a 64-byte line. The kernel's copy from the page cache runs at about half
 * speed when source and destination are offset differently within their lines, and checkpoints'
 * tensors rarely start on a line. */
#define LINE_SLACK 16
static size_t line_shift(const loader *L, const bert__tensor *t)
{
    const size_t off = shard_offset(L, t);
    return off % sizeof(float) ? 0 : off % 64 / sizeof(float);
}

/* n bytes at byte offset off of fd into dst: 0, errno, or -1 where the file ends first. */
static int read_at(int fd, void *dst, size_t n, size_t off)
{
    size_t done = 0;
    while (done < n) {
        const ssize_t r = pread(fd, (char *)dst + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? errno : -1;
        done += (size_t)r;
    }
    return 0;
}

static bert_status read_error(loader *L, const bert__tensor *t, size_t want, size_t off, int err)
{
    return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_IO, "%s: reading %zu bytes at byte offset %zu: %s",
                            L->m->ck.paths[t->file], want, off,
                            err > 0 ? strerror(err) : "the file shrank after it was opened");
}

static bert_status nonfinite_error(loader *L, const bert__tensor *t, size_t at, float value)
{
    char where[64] = "";
    if (t->ndim == 2 && t->shape[1])
        snprintf(where, sizeof where, " (row %zu, column %zu)", at / t->shape[1], at % t->shape[1]);
    return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_FORMAT,
                            "%s: tensor '%s' holds %s at index %zu%s: the checkpoint is corrupt, or was saved "
                            "from a training run that diverged",
                            L->m->ck.paths[t->file], t->name, isnan(value) ? "NaN" : "an infinity", at, where);
}

/* A NaN or an infinity in a weight makes every output NaN (or wrong) without a word: refuse the
 * checkpoint at load, naming the tensor and the place (v: the whole tensor's n values). */
static bert_status check_finite(loader *L, const bert__tensor *t, const float *v, size_t n)
{
    const size_t i = bert__first_nonfinite(v, n);
    return i == n ? BERT_OK : nonfinite_error(L, t, i, v[i]);
}

/* Tensor t as F32 into dst. F32 data is read with pread rather than through the mapping: the
 * kernel copies from the page cache through its own large pages, where touching the mapping costs
 * a fault and TLB misses per 4 KiB page (in a VM, each an exit to the hypervisor: several times
 * slower than pread). Where packing is a plain
 * transpose, transpose_in reads the file in pieces that stay in L2 instead of one whole copy. */
static bert_status load_f32(loader *L, const bert__tensor *t, float *dst, size_t n)
{
    if (t->dtype != BERT__F32) {
        convert(t, dst, n);
        release(t);
        return check_finite(L, t, dst, n);
    }
    bert_status st = open_shard(L, t);
    if (st != BERT_OK)
        return st;
    const size_t off = shard_offset(L, t), want = n * sizeof(float), chunk = (size_t)1 << 20;
    const long n_chunks = (long)((want + chunk - 1) / chunk);
    int err = 0;
    /* large tensors in 1 MiB pieces over the threads: one core cannot saturate the copy */
#pragma omp parallel for schedule(dynamic) if (BERT__OMP_PARALLEL && n_chunks > 1)
    for (long c = 0; c < n_chunks; c++) {
        const size_t at = (size_t)c * chunk;
        const int e = read_at(L->fd, (char *)dst + at, at + chunk < want ? chunk : want - at, off + at);
        if (e)
#pragma omp atomic write
            err = e;
    }
    return err ? read_error(L, t, want, off, err) : check_finite(L, t, dst, n);
}

/* Tensor t (n values) as F32 at the arena's bump pointer; *out points at it. */
static bert_status copy_in(loader *L, const bert__tensor *t, size_t n, const float **out)
{
    float *dst = L->next;
    bert_status st = load_f32(L, t, dst, n);
    if (st != BERT_OK)
        return st;
    L->next += n;
    *out = dst;
    return BERT_OK;
}

/* Converts tensor `name` of the expected shape into the arena; *out points at it. */
static bert_status take(loader *L, const char *name, size_t d0, size_t d1, const float **out)
{
    const bert__tensor *t;
    bert_status st = locate(L, name, d0, d1, &t);
    return st != BERT_OK ? st : copy_in(L, t, d0 * (d1 ? d1 : 1), out);
}

/* An F32 tensor the forward pass reads as it is stored (the embedding tables) is used in place in
 * the mapping: no copy, and its pages are only faulted in (and resident) as rows are looked up. */
static bert_status take_in_place(loader *L, const char *name, size_t d0, size_t d1, const float **out)
{
    const bert__tensor *t;
    bert_status st = locate(L, name, d0, d1, &t);
    if (st != BERT_OK)
        return st;
    if (t->dtype != BERT__F32 || ((uintptr_t)t->data & 3))
        return copy_in(L, t, d0 * (d1 ? d1 : 1), out);
    /* not scanned here: that would fault in every page of the table, where lookups touch only the
     * rows they use; a NaN row reaches the run's results, which bert_ctx_run checks */
    *out = (const float *)(const void *)t->data;
    L->m->uses_mapping = 1;
    L->in_place_bytes += t->nbytes;
    return BERT_OK;
}

/* BERT_WEIGHTS_MAPPED: the weight stays in the mapping as the file stores it (checked at setup:
 * aligned F32). The NaN/infinity scan reads every value, over the threads, so the file is in memory
 * and mapped when load returns and the first run costs what the others do (the kernel writing a
 * page-table entry per 4 KiB page is a large part of a mapped load; over the threads it splits). */
static const float *map_in_place(loader *L, const bert__tensor *t, bert_status *st)
{
    *st = check_finite(L, t, (const float *)(const void *)t->data, t->nbytes / sizeof(float));
    if (*st != BERT_OK)
        return NULL;
    L->m->uses_mapping = 1;
    L->in_place_bytes += t->nbytes;
    return (const float *)(const void *)t->data;
}

/* lin's weight is the one just written at the packed arena's bump pointer, in layout `kind`. */
static void packed_at_pnext(loader *L, int kind, bert_precision prec, bert__linear *lin)
{
    lin->packed = L->pnext;
    lin->packed_md = L->fmt[kind];
    lin->wdt = prec == BERT_PRECISION_BF16 ? dnnl_bf16 : prec == BERT_PRECISION_INT8 ? dnnl_s8 : dnnl_f32;
    lin->w = NULL;
    /* the implementation is chosen here, once, from the layout just written */
    lin->gemm = L->qgemm[kind]                                    ? BERT__GEMM_QGEMM
                : prec == BERT_PRECISION_F32 && L->plain_ld[kind] ? BERT__GEMM_SGEMM
                                                                  : BERT__GEMM_ONEDNN;
    L->pnext += ALIGN64(L->fmt_bytes[kind]);
}

/* Where the packed layout is plain [in][out] (F32 below AVX-512), packing is a transpose. Each
 * thread reads PIECE_ROWS rows of the file's [out][in] weight at a time into its own scratch (F32
 * with pread, F16/BF16 converted from the mapping) and transposes them while they are in its L2:
 * about twice as fast as copying each whole weight (out of L2) and transposing it after, or as
 * reading the mapping in place (a page-table entry per 4 KiB page). part: the first output column
 * this tensor fills (query, key and value share one fused weight). */
#define PIECE_ROWS 64
/* a thread's piece, with room to start where the file's bytes sit within a line (line_shift) */
static size_t piece_floats(size_t K)
{
    return PIECE_ROWS * K + LINE_SLACK;
}
/* The transposes are memory-bound long before this many threads, and each holds a scratch piece
 * (up to 768 KiB): a many-core CPU would otherwise hold ~100 MB of scratch for nothing. */
#define PIECE_THREADS_MAX 16
static int piece_threads(void)
{
    const int n = omp_get_max_threads();
    return n < PIECE_THREADS_MAX ? n : PIECE_THREADS_MAX;
}

static bert_status transpose_in(loader *L, const bert__tensor *t, size_t K, size_t N, int kind, size_t part)
{
    bert_status st = t->dtype == BERT__F32 ? open_shard(L, t) : BERT_OK;
    if (st != BERT_OK)
        return st;
    const size_t off = shard_offset(L, t), ld = L->plain_ld[kind];
    float *dst = (float *)(void *)L->pnext + part;
    const size_t shift = line_shift(L, t);
    const long n_pieces = (long)((N + PIECE_ROWS - 1) / PIECE_ROWS);
    int err = 0;
    size_t bad = SIZE_MAX; /* the first non-finite value's index, checked while each piece is in L2 */
    float bad_value = 0.f;
#pragma omp parallel for schedule(static) num_threads(piece_threads()) if (BERT__OMP_PARALLEL && n_pieces > 1)
    for (long p = 0; p < n_pieces; p++) {
        const size_t r0 = (size_t)p * PIECE_ROWS, rows = N - r0 < PIECE_ROWS ? N - r0 : PIECE_ROWS;
        float *buf = L->tmp + (size_t)omp_get_thread_num() * piece_floats(K) + shift;
        int e = 0;
        if (t->dtype == BERT__F32)
            e = read_at(L->fd, buf, rows * K * sizeof(float), off + r0 * K * sizeof(float));
        else
            convert_part(t, r0 * K, buf, rows * K);
        const size_t i = e ? rows * K : bert__first_nonfinite(buf, rows * K);
        if (i < rows * K) {
#pragma omp critical(bert_transpose_bad)
            if (r0 * K + i < bad) {
                bad = r0 * K + i;
                bad_value = buf[i];
            }
        }
        if (e)
#pragma omp atomic write
            err = e;
        else
            bert__transpose(buf, rows, K, K, dst + r0, ld);
    }
    release(t);
    if (err)
        return read_error(L, t, N * K * sizeof(float), off, err);
    return bad == SIZE_MAX ? BERT_OK : nonfinite_error(L, t, bad, bad_value);
}

/* Packs w ([N, K] F32, HF's [out, in]) into the packed arena in layout `kind`; for s8 each output
 * channel gets the symmetric scale max|w| / bert__int8_weight_levels() (kept in the arena for
 * dequantisation): 127 with VNNI; without it oneDNN's int8 kernels multiply-add u8 x s8 pairs into
 * saturating 16-bit sums (vpmaddubsw), which 255 x 127 x 2 overflows and 255 x 63 x 2 does not.
 * Measured on an AVX2 CPU: 8-bit weights were off exact int8 arithmetic by up to 0.55 on a 256-wide
 * product, 7-bit ones by 2e-7; mini-sst2's SST-2 logits moved 1.02 from HF's with 8 bits, 0.43
 * with 7. bert__qgemm adds two such sums in 16 bits, hence 31 for it (logits within 0.52). */
static bert_status pack(loader *L, const float *w, size_t K, size_t N, int kind, bert__linear *lin)
{
    const bert_precision prec = kind == W_POOLER ? BERT_PRECISION_F32 : L->m->precision;
    const float *qscale = NULL;
    if (prec == BERT_PRECISION_INT8) {
        const float levels = bert__int8_weight_levels();
        float *ws = L->next;
        L->next += N;
        bert__absmax_rows(w, N, K, ws);
        for (size_t n = 0; n < N; n++) {
            ws[n] = ws[n] > 0.f ? ws[n] / levels : 1.f;
            L->qscale[n] = 1.f / ws[n];
        }
        lin->wscale = ws;
        qscale = L->qscale;
    }
    if (L->qgemm[kind]) {
        bert__qgemm_pack(w, K, N, qscale, L->pnext);
        packed_at_pnext(L, kind, prec, lin);
        return BERT_OK;
    }
    char msg[256];
    bert_status st = bert__pack(L->eng, L->stream, w, K, N, &L->fmt[kind], qscale, L->pnext, msg, sizeof msg);
    if (st != BERT_OK)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, st, "%s: packing a %zu x %zu weight: %s", L->file, N, K,
                                msg);
    packed_at_pnext(L, kind, prec, lin);
    return BERT_OK;
}

/* A layer's linear: bias into the arena, weight packed (read in place when the file holds F32). */
static bert_status take_packed(loader *L, const char *prefix, size_t out, size_t in, int kind, bert__linear *lin)
{
    char n[192];
    const bert__tensor *t;
    bert_status st;
    snprintf(n, sizeof n, "%s.weight", prefix);
    if ((st = locate(L, n, out, in, &t)) != BERT_OK)
        return st;
    snprintf(n, sizeof n, "%s.bias", prefix);
    if ((st = take(L, n, out, 0, &lin->b)) != BERT_OK)
        return st;
    lin->in = in;
    lin->out = out;
    if (L->mapped[kind]) {
        lin->n_parts = 1;
        lin->gemm = BERT__GEMM_SGEMM_MAPPED;
        lin->w = lin->parts[0] = map_in_place(L, t, &st);
        return st;
    }
    if (L->plain_ld[kind]) {
        if ((st = transpose_in(L, t, in, out, kind, 0)) != BERT_OK)
            return st;
        packed_at_pnext(L, kind, BERT_PRECISION_F32, lin);
        return BERT_OK;
    }
    float *w = L->tmp + line_shift(L, t);
    if ((st = load_f32(L, t, w, out * in)) != BERT_OK)
        return st;
    return pack(L, w, in, out, kind, lin);
}

static bert_status take_linear(loader *L, const char *prefix, size_t out, size_t in, bert__linear *lin)
{
    char n[192];
    bert_status st;
    snprintf(n, sizeof n, "%s.weight", prefix);
    if ((st = take(L, n, out, in, &lin->w)) != BERT_OK)
        return st;
    snprintf(n, sizeof n, "%s.bias", prefix);
    if ((st = take(L, n, out, 0, &lin->b)) != BERT_OK)
        return st;
    lin->in = in;
    lin->out = out;
    return BERT_OK;
}

/* LayerNorm `name` (without .weight/.bias) */
static bert_status take_ln(loader *L, const char *name, size_t H, const float **g, const float **b)
{
    char n[192];
    bert_status st;
    snprintf(n, sizeof n, "%s.weight", name);
    if ((st = take(L, n, H, 0, g)) != BERT_OK)
        return st;
    snprintf(n, sizeof n, "%s.bias", name);
    return take(L, n, H, 0, b);
}

/* Query, key and value as one [3H, H] matrix and [3H] bias: one matmul instead of three. */
static bert_status take_qkv(loader *L, size_t l, size_t H, bert__linear *qkv)
{
    const bert__tensor_names *tn = &L->m->cfg.fam->t;
    const char *const parts[3] = {tn->q, tn->k, tn->v};
    float *b = L->next;
    L->next += 3 * H;
    qkv->b = b;
    qkv->in = H;
    qkv->out = 3 * H;
    float *w = L->tmp;
    for (int i = 0; i < 3; i++) {
        char n[192];
        const bert__tensor *t;
        const float *pb;
        bert_status st;
        if ((st = locate(L, layer_name(n, sizeof n, parts[i], l, ".weight"), H, H, &t)) != BERT_OK)
            return st;
        if (L->mapped[W_QKV])
            qkv->parts[i] = map_in_place(L, t, &st);
        else if (L->plain_ld[W_QKV])
            st = transpose_in(L, t, H, H, W_QKV, (size_t)i * H);
        else {
            if (i == 0) /* the parts sit side by side in the scratch: one shift for the three */
                w = L->tmp + line_shift(L, t);
            st = load_f32(L, t, w + (size_t)i * H * H, H * H);
        }
        if (st != BERT_OK)
            return st;
        float *save = L->next;
        if ((st = take(L, layer_name(n, sizeof n, parts[i], l, ".bias"), H, 0, &pb)) != BERT_OK)
            return st;
        memcpy(b + (size_t)i * H, pb, H * sizeof *b);
        L->next = save; /* the bias went where the fused one lives */
    }
    if (L->mapped[W_QKV]) {
        qkv->n_parts = 3;
        qkv->gemm = BERT__GEMM_SGEMM_MAPPED;
        return BERT_OK;
    }
    if (L->plain_ld[W_QKV]) {
        packed_at_pnext(L, W_QKV, BERT_PRECISION_F32, qkv);
        return BERT_OK;
    }
    return pack(L, w, H, 3 * H, W_QKV, qkv);
}

/* A tensor for a layer (or ALBERT group) the config does not have means the two files disagree. */
static bert_status check_extra_layers(loader *L)
{
    const bert__config *cfg = &L->m->cfg;
    char stem[192];
    snprintf(stem, sizeof stem, "%s", cfg->fam->t.q);
    char *pct = strstr(stem, "%zu");
    if (!pct)
        return BERT_OK;
    *pct = '\0'; /* "encoder.layer." */
    for (size_t i = 0; i < L->m->ck.n; i++) {
        const char *s = strstr(L->m->ck.tensors[i].name, stem);
        size_t l = 0;
        if (s && sscanf(s + strlen(stem), "%zu", &l) == 1 && l >= cfg->n_groups)
            return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_SHAPE,
                                    "%s: tensor '%s' belongs to %s %zu but config.json says %s %zu", L->file,
                                    L->m->ck.tensors[i].name, cfg->fam->shared_groups ? "group" : "layer", l,
                                    cfg->fam->shared_groups ? "num_hidden_groups" : "num_hidden_layers", cfg->n_groups);
    }
    return BERT_OK;
}

static bert_status load_all(loader *L);

bert_status bert__weights_load(bert_model *m, const char *dir, char *errbuf, size_t errbuf_size)
{
    bert_status st = bert__checkpoint_open(dir, &m->ck, errbuf, errbuf_size);
    if (st != BERT_OK)
        return st;
    loader L;
    memset(&L, 0, sizeof L);
    L.m = m;
    L.file = m->ck.n_files == 1 ? m->ck.paths[0] : dir;
    L.errbuf = errbuf;
    L.errbuf_size = errbuf_size;
    L.fd = L.fd_file = -1;
    st = load_all(&L);
    bert__free_big(L.tmp, L.tmp_floats * sizeof(float));
    bert__free(L.qscale);
    if (L.fd >= 0)
        close(L.fd);
    if (L.stream)
        dnnl_stream_destroy(L.stream);
    if (L.eng)
        dnnl_engine_destroy(L.eng);
    return st;
}

/* The layouts of the four packed weights and the scratch the packing needs. */
static bert_status pack_setup(loader *L)
{
    const bert_model_info *in = &L->m->cfg.info;
    const size_t H = in->hidden_size, I = in->intermediate_size;
    const size_t K[W_KINDS] = {H, H, H, I, H}, N[W_KINDS] = {3 * H, H, I, H, H};
    char msg[256];
    bert_status st;
    if (dnnl_engine_create(&L->eng, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&L->stream, L->eng, dnnl_stream_default_flags) != dnnl_success)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_BACKEND, "%s: creating the oneDNN engine", L->file);
    /* BERT_WEIGHTS_MAPPED reads a weight in place only when every tensor is aligned F32 (the arena is sized before any
     * is read), and only for F32 products; a mapped kind needs no packed layout. */
    int in_place = L->m->weights_mode == BERT_WEIGHTS_MAPPED;
    for (size_t i = 0; i < L->m->ck.n && in_place; i++) {
        const bert__tensor *t = &L->m->ck.tensors[i];
        if (t->dtype != BERT__F32 || ((uintptr_t)t->data & 3))
            in_place = 0;
    }
    for (int k = 0; k < W_KINDS; k++) {
        const bert_precision prec = k == W_POOLER ? BERT_PRECISION_F32 : L->m->precision;
        L->mapped[k] = in_place && prec == BERT_PRECISION_F32;
        if (L->mapped[k])
            continue;
        if (prec == BERT_PRECISION_INT8 && bert__int8_uses_qgemm()) {
            L->qgemm[k] = 1;
            L->fmt_bytes[k] = bert__qgemm_packed_bytes(K[k], N[k]);
            continue;
        }
        if ((st = bert__pack_desc(L->eng, K[k], N[k], prec, &L->fmt[k], msg, sizeof msg)) != BERT_OK)
            return bert__errbuf_set(L->errbuf, L->errbuf_size, st, "%s: %s", L->file, msg);
        L->fmt_bytes[k] = dnnl_memory_desc_get_size(&L->fmt[k]);
        if (prec == BERT_PRECISION_F32)
            L->plain_ld[k] = bert__pack_plain_ld(&L->fmt[k], N[k]);
    }
    /* the scratch only packing reads: a whole weight for a reorder, a piece per thread for a transpose */
    L->tmp_floats = 1;
    for (int k = 0; k < W_KINDS; k++) {
        const size_t need = L->mapped[k]     ? 0
                            : L->plain_ld[k] ? (size_t)piece_threads() * piece_floats(K[k])
                                             : K[k] * N[k] + LINE_SLACK;
        L->tmp_floats = need > L->tmp_floats ? need : L->tmp_floats;
    }
    L->tmp = bert__calloc_big(L->tmp_floats, sizeof(float));
    bert__populate(L->tmp, L->tmp_floats * sizeof(float));
    L->qscale = bert__calloc(3 * H > I ? 3 * H : I, sizeof(float));
    if (!L->tmp || !L->qscale)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_NOMEM, "%s: allocating the packing scratch", L->file);
    return BERT_OK;
}

/* A layer's weight set (one per layer; ALBERT: one per group, shared). */
static bert_status take_layer(loader *L, size_t g, bert__layer *y)
{
    const bert_model_info *in = &L->m->cfg.info;
    const bert__tensor_names *tn = &L->m->cfg.fam->t;
    const size_t H = in->hidden_size, I = in->intermediate_size;
    char p[192];
    bert_status st;
    if ((st = take_qkv(L, g, H, &y->qkv)) != BERT_OK ||
        (st = take_packed(L, layer_name(p, sizeof p, tn->attn_out, g, ""), H, H, W_ATTN_OUT, &y->attn_out)) ||
        (st = take_ln(L, layer_name(p, sizeof p, tn->ln1, g, ""), H, &y->ln1_g, &y->ln1_b)) ||
        (st = take_packed(L, layer_name(p, sizeof p, tn->inter, g, ""), I, H, W_INTER, &y->inter)) ||
        (st = take_packed(L, layer_name(p, sizeof p, tn->out, g, ""), H, I, W_OUT, &y->out)) ||
        (st = take_ln(L, layer_name(p, sizeof p, tn->ln2, g, ""), H, &y->ln2_g, &y->ln2_b)))
        return st;
    return BERT_OK;
}

/* DeBERTa: the relative embeddings (LayerNorm'd once, as every run would) and, per layer, their
 * projections by that layer's own query and key weights (share_att_key): constant for the
 * model's life, so computed here with the layer's packed product rather than in every run. */
static bert_status take_relative(loader *L)
{
    bert_model *m = L->m;
    const bert__config *cfg = &m->cfg;
    const size_t H = cfg->info.hidden_size, R = 2 * cfg->rel_span;
    bert_status st;
    const float *rel, *g, *b;
    char name[192], msg[256] = "";
    snprintf(name, sizeof name, "%s.weight", cfg->fam->t.rel_emb);
    if ((st = take(L, name, R, H, &rel)) != BERT_OK ||
        (cfg->rel_ln && (st = take_ln(L, cfg->fam->t.rel_ln, H, &g, &b))))
        return st;
    float *e = (float *)rel; /* the arena's copy, ours to normalise */
    bert__dnnl *d = NULL;
    float *qkv = bert__calloc(R * 3, H * sizeof(float));
    if (!qkv)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, BERT_E_NOMEM, "%s: allocating the relative projections",
                                L->file);
    if ((st = bert__dnnl_new(&d, msg, sizeof msg)) != BERT_OK ||
        (cfg->rel_ln && (st = bert__layer_norm_dnnl(d, e, R, H, g, b, cfg->info.layer_norm_eps, msg, sizeof msg))))
        goto done;
    m->rel_emb = e;
    for (size_t l = 0; l < cfg->info.n_layers; l++) {
        bert__layer *y = &m->layers[l];
        if (l > 0 && y->qkv.b == m->layers[l - 1].qkv.b) { /* a shared weight set */
            y->rel_q = m->layers[l - 1].rel_q;
            y->rel_k = m->layers[l - 1].rel_k;
            continue;
        }
        if ((st = bert__matmul(d, e, R, H, &y->qkv, qkv, 3 * H, BERT__POST_NONE, 0, msg, sizeof msg)) != BERT_OK)
            goto done;
        float *pq = L->next, *pk = L->next + R * H;
        L->next += 2 * R * H;
        for (size_t r = 0; r < R; r++) {
            memcpy(pq + r * H, qkv + r * 3 * H, H * sizeof(float));
            memcpy(pk + r * H, qkv + r * 3 * H + H, H * sizeof(float));
        }
        y->rel_q = pq;
        y->rel_k = pk;
    }
done:
    bert__free(qkv);
    bert__dnnl_free(d);
    if (st != BERT_OK)
        return bert__errbuf_set(L->errbuf, L->errbuf_size, st, "%s: the relative position embeddings: %s", L->file,
                                msg);
    return BERT_OK;
}

static bert_status load_all(loader *L)
{
    bert_model *m = L->m;
    bert__config *cfg = &m->cfg;
    const bert__family *f = cfg->fam;
    const bert_model_info *in = &cfg->info;
    const size_t H = in->hidden_size, I = in->intermediate_size, E = cfg->embedding_size, G = cfg->n_groups;
    char *errbuf = L->errbuf;
    const size_t errbuf_size = L->errbuf_size;
    bert_status st;
    if ((st = check_extra_layers(L)) != BERT_OK || (st = pack_setup(L)) != BERT_OK)
        return st;
    char found[256], name[192];
    const int has_cls = in->arch == BERT_ARCH_SEQUENCE_CLASSIFICATION || in->arch == BERT_ARCH_TOKEN_CLASSIFICATION ||
                        in->arch == BERT_ARCH_MULTIPLE_CHOICE;
    const int token_cls = in->arch == BERT_ARCH_TOKEN_CLASSIFICATION;
    snprintf(name, sizeof name, "%s.weight", f->pool_dense);
    cfg->info.has_pooler = find(m, name, found, sizeof found) != NULL && !token_cls;
    if (has_cls && !token_cls && !in->has_pooler)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_FORMAT,
                                "%s: %s needs tensor '%s' (or '%s%s'), which is missing", L->file, in->arch_name, name,
                                f->prefix, name);
    const int has_pos = cfg->positions != BERT__POS_NONE, has_types = in->type_vocab_size > 0;
    const size_t R = 2 * cfg->rel_span;

    /* Every float the model keeps, counted before one allocation: embeddings (and their
     * projection), per weight set the biases, LayerNorms and (s8) the weight scales, relative
     * position tables, the pooling dense and the classifier; the layers' weights go to the
     * packed arena. */
    size_t n = (in->vocab_size + (has_pos ? in->max_positions : 0) + in->type_vocab_size + 2) * E;
    snprintf(name, sizeof name, "%s.weight", f->t.emb_proj ? f->t.emb_proj : "");
    const int has_proj = f->t.emb_proj && (E != H || find(m, name, found, sizeof found));
    if (has_proj)
        n += E * H + H;
    const size_t per_layer = 3 * H + H + I + H;
    n += G * (per_layer + 4 * H + (m->precision == BERT_PRECISION_INT8 ? per_layer : 0));
    if (f->relative == BERT__REL_BUCKET_BIAS)
        n += cfg->rel_buckets * in->n_heads;
    if (f->relative == BERT__REL_DISENTANGLED)
        n += R * H + 2 * H + G * 2 * R * H;
    size_t pbytes = 0;
    for (int k = 0; k < W_POOLER; k++)
        pbytes += ALIGN64(L->fmt_bytes[k]);
    pbytes *= G;
    if (in->has_pooler)
        pbytes += ALIGN64(L->fmt_bytes[W_POOLER]);
    if (in->has_pooler)
        n += H * H + H;
    if (has_cls)
        n += in->n_labels * H + in->n_labels + (cfg->discriminator ? H * H + H : 0);
    const int has_lm = in->arch == BERT_ARCH_MASKED_LM || in->arch == BERT_ARCH_CAUSAL_LM;
    snprintf(name, sizeof name, "%s.weight", f->lm_decoder ? f->lm_decoder : "");
    const int lm_untied = has_lm && find(m, name, found, sizeof found) != NULL && !cfg->tie_word_embeddings;
    if (has_lm)
        n += (E * H + E) + 2 * E + in->vocab_size + (lm_untied ? in->vocab_size * E : 0);
    m->arena = bert__calloc_big(n, sizeof *m->arena);
    m->arena_floats = m->arena ? n : 0;
    m->packed = bert__calloc_big(pbytes ? pbytes : 1, 1);
    m->packed_bytes = m->packed ? pbytes : 0;
    m->layers = bert__calloc(in->n_layers, sizeof *m->layers);
    if (!m->arena || !m->packed || !m->layers)
        return bert__errbuf_set(errbuf, errbuf_size, BERT_E_NOMEM, "%s: allocating %zu MB of weights", L->file,
                                (n * sizeof(float) + pbytes) >> 20);
    /* the packed weights' pages, faulted in by all threads in 32 MiB pieces before the reorders */
    const size_t piece = (size_t)32 << 20;
#pragma omp parallel for schedule(dynamic) if (BERT__OMP_PARALLEL)
    for (long i = 0; i < (long)((m->packed_bytes + piece - 1) / piece); i++) {
        const size_t at = (size_t)i * piece;
        bert__populate((char *)m->packed + at, at + piece < m->packed_bytes ? piece : m->packed_bytes - at);
    }
    L->next = m->arena;
    L->pnext = m->packed;

#define NAMED(role, suffix) (snprintf(name, sizeof name, "%s%s", f->t.role, suffix), name)
    if ((st = take_in_place(L, NAMED(word, ".weight"), in->vocab_size, E, &m->word_emb)) ||
        (has_pos && (st = take_in_place(L, NAMED(pos, ".weight"), in->max_positions, E, &m->pos_emb))) ||
        (has_types && (st = take_in_place(L, NAMED(type, ".weight"), in->type_vocab_size, E, &m->type_emb))) ||
        (st = take_ln(L, f->t.emb_ln, E, &m->emb_ln_g, &m->emb_ln_b)))
        return st;
    if (has_proj && (st = take_linear(L, f->t.emb_proj, H, E, &m->emb_proj)) != BERT_OK)
        return st;
    if (f->relative == BERT__REL_BUCKET_BIAS &&
        (st = take(L, NAMED(rel_bias, ".weight"), cfg->rel_buckets, in->n_heads, &m->rel_bias)) != BERT_OK)
        return st;
#undef NAMED
    /* ALBERT: layer l runs group l / (n_layers / n_groups); the other families: G = n_layers */
    for (size_t g = 0; g < G; g++)
        if ((st = take_layer(L, g, &m->layers[g * (in->n_layers / G)])) != BERT_OK)
            return st;
    for (size_t l = 0; l < in->n_layers; l++)
        if (l % (in->n_layers / G))
            m->layers[l] = m->layers[l - l % (in->n_layers / G)];
    if (f->relative == BERT__REL_DISENTANGLED) {
        /* the projections are per weight set: give the shared copies their pointers too */
        if ((st = take_relative(L)) != BERT_OK)
            return st;
    }
    if (in->has_pooler && (st = take_packed(L, f->pool_dense, H, H, W_POOLER, &m->pooler)) != BERT_OK)
        return st;
    if (cfg->discriminator && ((st = take_linear(L, f->disc_dense, H, H, &m->tok_dense)) != BERT_OK ||
                               (st = take_linear(L, f->disc_out, 1, H, &m->classifier)) != BERT_OK))
        return st;
    if (has_cls && !cfg->discriminator &&
        (st = take_linear(L, token_cls ? "classifier" : f->cls_out, in->n_labels, H, &m->classifier)) != BERT_OK)
        return st;
    if (has_lm) {
        bert__lm_head *lm = &m->lm;
        snprintf(name, sizeof name, "%s.bias", f->lm_bias_alt ? f->lm_bias_alt : f->lm_bias);
        const char *bias = find(m, f->lm_bias, found, sizeof found) || !f->lm_bias_alt ? f->lm_bias : name;
        if ((st = take_linear(L, f->lm_dense, E, H, &lm->transform)) != BERT_OK ||
            (st = take_ln(L, f->lm_ln, E, &lm->ln_g, &lm->ln_b)) != BERT_OK ||
            (st = take(L, bias, in->vocab_size, 0, &lm->decoder.b)) != BERT_OK)
            return st;
        if (lm_untied) {
            snprintf(name, sizeof name, "%s.weight", f->lm_decoder);
            if ((st = take_in_place(L, name, in->vocab_size, E, &lm->decoder.w)) != BERT_OK)
                return st;
        } else {
            lm->decoder.w = m->word_emb; /* tied */
        }
        lm->decoder.in = E;
        lm->decoder.out = in->vocab_size;
    }
    m->cfg.info.weight_bytes = (size_t)(L->next - m->arena) * sizeof(float) + pbytes + L->in_place_bytes;
    m->cfg.info.mapped_bytes = L->in_place_bytes;
    return BERT_OK;
}
