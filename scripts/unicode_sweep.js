// Hugging Face's side of the Unicode sweep (tests/unicode_sweep.c is libbert's): every Unicode
// scalar value alone and inside a word ("a" + c + "b"), through a BERT WordPiece tokenizer built
// from a vocab.txt as transformers' BertTokenizerFast builds it, or a tokenizer.json. One line per
// input: hex code point, mode (0 alone, 1 in a word), ids, then offsets in code points (b-e).
// Then RANDOM seeded generated strings (random Unicode mixes, whitespace runs, combining marks,
// special tokens inside words): hex of the UTF-8 bytes, mode 2, ids, offsets (and, with --json, the
// hex of what the tokenizer's decoder makes of the ids, special tokens skipped).
// Usage: node scripts/unicode_sweep.js vocab.txt lower|cased [RANDOM] > hf.tsv
//        node scripts/unicode_sweep.js --json tokenizer.json [RANDOM] > hf.tsv
// SWEEP_GENERATED_ONLY=1 leaves the code points out (a quick check; unicode_sweep then reports
// them missing). The npm package `tokenizers` is found in $TOKPEER (default /tmp/tokpeer/node_modules/tokenizers).
'use strict';
const tk = require(process.env.TOKPEER || '/tmp/tokpeer/node_modules/tokenizers');

async function build(args) {
  if (args[0] === '--json') return tk.Tokenizer.fromFile(args[1]);
  const lower = args[1] === 'lower';
  const model = await tk.WordPiece.fromFile(args[0], { unkToken: '[UNK]', continuingSubwordPrefix: '##',
    maxInputCharsPerWord: 100 });
  const tok = new tk.Tokenizer(model);
  tok.setNormalizer(tk.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: lower }));
  tok.setPreTokenizer(tk.bertPreTokenizer());
  tok.setPostProcessor(tk.bertProcessing(['[SEP]', tok.tokenToId('[SEP]')], ['[CLS]', tok.tokenToId('[CLS]')]));
  tok.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  return tok;
}

// mulberry32: a small seeded generator, so a run is repeatable
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The special tokens put inside words: the tokenizer's added tokens, and near misses.
let specials = ['[UNK]', '[MASK]', '[CLS]', '[SEP]', '[PAD]', '[unk]', '[MASK'];

function randomString(r) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  const scalar = (lo, hi) => {
    for (;;) {
      const c = lo + Math.floor(r() * (hi - lo + 1));
      if (c < 0xd800 || c > 0xdfff) return String.fromCodePoint(c);
    }
  };
  const spaces = [' ', ' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\u3000', '\u200b', '\u0085', '\u000b'];
  let s = '';
  const n = 1 + Math.floor(r() * 40);
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.3) s += pick('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
    else if (k < 0.38) s += pick('.,;:!?\'"()[]{}<>-_/\\@#$%^&*+=|~`');
    else if (k < 0.48) s += pick(spaces).repeat(1 + Math.floor(r() * 3));
    else if (k < 0.58) s += scalar(0xc0, 0x24f);                  // Latin with accents
    else if (k < 0.63) s += scalar(0x300, 0x36f);                  // combining marks
    else if (k < 0.68) s += scalar(0x4e00, 0x9fff);                // CJK
    else if (k < 0.71) s += scalar(0xac00, 0xd7a3);                // Hangul
    else if (k < 0.86) s += scalar(0x80, 0xffff);                  // anything in the BMP
    else if (k < 0.92) s += scalar(0x10000, 0x10ffff);             // anything above
    else if (k < 0.94) s += pick(['\u2581', '\u0120', '\u2581\u2581', ' \u2581', "'s", "'ll", '  ']);
    else s += pick(specials);                                      // inside a word
  }
  return s;
}

async function main() {
  const args = process.argv.slice(2);
  const nRandom = parseInt(args[2] || '0', 10);
  const tok = await build(args);
  if (args[0] === '--json') {
    const added = JSON.parse(require('fs').readFileSync(args[1], 'utf8')).added_tokens || [];
    const names = added.map((a) => a.content).slice(0, 20);
    specials = names.concat(names.map((n) => n.slice(0, -1)), names.map((n) => n.toUpperCase()));
  }
  const cps = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
  const B = 20000;
  for (let mode = 0; mode < (process.env.SWEEP_GENERATED_ONLY ? 0 : 2); mode++) {
    for (let i = 0; i < cps.length; i += B) {
      const part = cps.slice(i, i + B);
      const texts = part.map((cp) => (mode ? 'a' + String.fromCodePoint(cp) + 'b' : String.fromCodePoint(cp)));
      const enc = await tok.encodeBatch(texts);
      const out = [];
      for (let k = 0; k < part.length; k++) {
        const e = enc[k];
        const offs = e.getOffsets().map((o) => o[0] + '-' + o[1]).join(',');
        out.push(part[k].toString(16) + '\t' + mode + '\t' + e.getIds().join(',') + '\t' + offs + '\n');
      }
      process.stdout.write(out.join(''));
    }
  }
  const r = rng(20261206);
  for (let i = 0; i < nRandom; i += 10000) {
    const texts = [];
    for (let k = 0; k < 10000 && i + k < nRandom; k++) texts.push(randomString(r));
    const enc = await tok.encodeBatch(texts);
    // with a tokenizer.json, also what its decoder makes of the ids (special tokens skipped)
    const dec = args[0] === '--json' ? await tok.decodeBatch(enc.map((e) => e.getIds()), true) : null;
    const out = texts.map((t, k) => Buffer.from(t, 'utf8').toString('hex') + '\t2\t' + enc[k].getIds().join(',') +
      '\t' + enc[k].getOffsets().map((o) => o[0] + '-' + o[1]).join(',') +
      (dec ? '\t' + Buffer.from(dec[k], 'utf8').toString('hex') : '') + '\n');
    process.stdout.write(out.join(''));
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
