// Asks Hugging Face's tokenizers (npm) what its NFD, NFKD, NFC, NFKC and StripAccents normalizers
// make of each Unicode scalar value alone, and whether a character joins the grapheme cluster of a
// preceding U+00A0 (SentencePiece's Precompiled normalizer replaces a whole grapheme by the
// replacement of its first character, so a joining character vanishes): one TSV line per code
// point, cp nfd nfkd nfc nfkc strip_accents joins ccc, the strings as hex code points joined by
// '+'; ccc is what HF's NFD knows of the character's canonical combining class: 0, 1, or 2 (more
// than 1), from whether it reorders it around U+0334 (class 1) and U+0301 (class 230); then the
// classes of the GPT-2 pattern (ByteLevel's pre-tokenizer, Oniguruma's Unicode tables): letter
// (\p{L}: "a" + c stays one piece), number (\p{N}: "1" + c) and space (\s: "x" + c + c + "x" makes
// four pieces).
// tests/nf_compare.c compares these answers with libbert's.
// Usage: node scripts/hf_nf_probe.js TOKENIZER_JSON_WITH_PRECOMPILED > nf.tsv
'use strict';
const tk = require(process.env.TOKPEER || '/tmp/tokpeer/node_modules/tokenizers');

const nfd = tk.nfdNormalizer(), nfkd = tk.nfkdNormalizer(), nfc = tk.nfcNormalizer(), nfkc = tk.nfkcNormalizer();
const sa = tk.stripAccentsNormalizer();
const bl = tk.byteLevelPreTokenizer(false, true);
const hex = (s) => (s.length === 0 ? '-' : Array.from(s, (ch) => ch.codePointAt(0).toString(16)).join('+'));

async function main() {
  const tok = await tk.Tokenizer.fromFile(process.argv[2]);
  const cps = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) cps.push(cp);
  const base = (await tok.encodeBatch(['x\u00a0']))[0].getIds().join(',');
  const B = 20000;
  for (let i = 0; i < cps.length; i += B) {
    const part = cps.slice(i, i + B);
    const enc = await tok.encodeBatch(part.map((cp) => 'x\u00a0' + String.fromCodePoint(cp)));
    const out = [];
    for (let k = 0; k < part.length; k++) {
      const c = String.fromCodePoint(part[k]);
      const joins = enc[k].getIds().join(',') === base ? 1 : 0;
      const r1 = part[k] !== 0x334 && nfd.normalizeString(c + '\u0334').codePointAt(0) === 0x334; // class > 1
      const r2 = nfd.normalizeString('\u0301' + c).codePointAt(0) !== 0x301; // 0 < class < 230
      const ccc = r1 ? 2 : r2 ? 1 : 0;
      const L = bl.preTokenizeString('a' + c).length === 1 ? 1 : 0;
      const N = bl.preTokenizeString('1' + c).length === 1 ? 1 : 0;
      const S = part[k] === 0x20 || bl.preTokenizeString('x' + c + c + 'x').length === 4 ? 1 : 0;
      out.push(`${part[k].toString(16)}\t${hex(nfd.normalizeString(c))}\t${hex(nfkd.normalizeString(c))}\t` +
        `${hex(nfc.normalizeString(c))}\t${hex(nfkc.normalizeString(c))}\t${hex(sa.normalizeString(c))}\t${joins}\t${ccc}\t${L}\t${N}\t${S}\n`);
    }
    process.stdout.write(out.join(''));
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
