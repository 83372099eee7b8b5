// Asks Hugging Face's tokenizers (the npm package, the Rust code itself) how its BERT normalizer and
// pre-tokenizer treat every Unicode scalar value, one property at a time, so that libbert's tables
// can be made from HF's behaviour rather than from the current Unicode standard (HF's Rust crates
// carry tables of their own, some from old Unicode versions). Writes one TSV line per code point:
//   cp  removed  space  cjk  punct  lower  strip
// removed: clean_text drops it; space: clean_text turns it into ' '; cjk: handle_chinese_chars pads
// it; punct: the BERT pre-tokenizer splits it off as punctuation; lower/strip: what lowercasing
// alone / accent stripping alone make of it, as hex code points joined by '+' ('-' for nothing).
// Usage: TOKPEER=/tmp/tokpeer/node_modules/tokenizers node scripts/hf_unicode_probe.js > probe.tsv
'use strict';
const tk = require(process.env.TOKPEER || '/tmp/tokpeer/node_modules/tokenizers');

const clean = tk.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
const cjk = tk.bertNormalizer({ cleanText: false, handleChineseChars: true, stripAccents: false, lowercase: false });
const lower = tk.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true });
const strip = tk.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
const pre = tk.bertPreTokenizer();

const hex = (s) => (s.length === 0 ? '-' : Array.from(s, (ch) => ch.codePointAt(0).toString(16)).join('+'));
const out = [];
const flush = () => { process.stdout.write(out.join('')); out.length = 0; };
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const c = String.fromCodePoint(cp);
  const n = clean.normalizeString('a' + c + 'b');
  const removed = n === 'ab' ? 1 : 0;
  const space = n === 'a b' ? 1 : 0;
  const padded = cjk.normalizeString(c) === ' ' + c + ' ' ? 1 : 0;
  const parts = pre.preTokenizeString('a' + c + 'b');
  const punct = parts.length === 3 && parts[1][0] === c ? 1 : 0;
  out.push(`${cp.toString(16)}\t${removed}\t${space}\t${padded}\t${punct}\t${hex(lower.normalizeString(c))}\t${hex(strip.normalizeString(c))}\n`);
  if (out.length >= 65536) flush();
}
flush();
