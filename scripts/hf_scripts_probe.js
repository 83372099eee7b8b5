// HF tokenizers' UnicodeScripts pre-tokenizer as an oracle for scripts/gen_hf_scripts.py: for each
// input line "cp rep1 rep2 name" (hex code points), whether rep1+cp and rep2+cp stay one piece
// (the same script, or cp is one HF's table does not know, which joins any script).
// Usage: node scripts/hf_scripts_probe.js IN.tsv OUT.tsv
'use strict';
const tk = require(process.env.TOKPEER || '/tmp/tokpeer/node_modules/tokenizers');
const fs = require('fs');

async function main() {
  const json = {
    version: '1.0', added_tokens: [], normalizer: null, pre_tokenizer: { type: 'UnicodeScripts' },
    post_processor: null, decoder: null, model: { type: 'WordLevel', unk_token: '[UNK]', vocab: { '[UNK]': 0 } },
  };
  const t = tk.Tokenizer.fromString(JSON.stringify(json));
  const lines = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n');
  const ch = (x) => String.fromCodePoint(parseInt(x, 16));
  const one = async (arr) => (await t.encodeBatch(arr, false)).map((e) => (e.getOffsets().length === 1 ? 1 : 0));
  const out = [];
  for (let i = 0; i < lines.length; i += 20000) {
    const p = lines.slice(i, i + 20000).map((l) => l.split('\t'));
    const a = await one(p.map((q) => ch(q[1]) + ch(q[0])));
    const b = await one(p.map((q) => ch(q[2]) + ch(q[0])));
    for (let k = 0; k < p.length; k++) out.push(`${p[k][0]}\t${p[k][3]}\t${a[k]}\t${b[k]}`);
  }
  fs.writeFileSync(process.argv[3], out.join('\n') + '\n');
}
main().catch((e) => { console.error(e); process.exit(1); });
