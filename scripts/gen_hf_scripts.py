#!/usr/bin/env python3
"""Writes tokenizer/hf_scripts.c: the Unicode script of every code point as HF tokenizers' own
table has it (the UnicodeScripts pre-tokenizer), which is older than Unicode 15: 26 newer scripts
and every character assigned since are unknown to it, and unknown characters join any script.
Candidates come from Unicode's Scripts.txt (Debian's unicode-data); HF itself (npm, through
scripts/hf_scripts_probe.js) confirms each one, and those it does not are resolved against one
representative of every script it knows.
Usage: scripts/gen_hf_scripts.py /usr/share/unicode/Scripts.txt > tokenizer/hf_scripts.c"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def probe(rows):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, 'in.tsv'), os.path.join(d, 'out.tsv')
        with open(src, 'w') as f:
            for r in rows:
                f.write('%x\t%x\t%x\t%s\n' % r)
        subprocess.run(['node', os.path.join(HERE, 'hf_scripts_probe.js'), src, dst], check=True)
        return [l.rstrip('\n').split('\t') for l in open(dst)]


def main():
    cp2s = {}
    for line in open(sys.argv[1]):
        line = line.split('#')[0].strip()
        if not line:
            continue
        r, name = [x.strip() for x in line.split(';')]
        a, b = [int(x, 16) for x in r.split('..')] if '..' in r else [int(r, 16)] * 2
        for c in range(a, b + 1):
            cp2s[c] = name
    fix = lambda n: 'Han' if n in ('Hiragana', 'Katakana') else n  # merged by HF's fixed_script
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    # pass 1: each character against the first character of its script, and against 'a' (or a
    # Han ideograph for Latin): same script = one piece with the first, two with the other
    first = {}
    for c in sorted(cp2s):
        first.setdefault(fix(cp2s[c]), c)
    def rows(reps):
        out = []
        for c in cps:
            n = fix(cp2s.get(c, 'Any'))
            if c == 0x20 or n not in reps:
                n = 'Any'
            r1 = reps[n] if n != 'Any' else ord('a')
            r2 = 0x4E00 if n in ('Latin', 'Any') else ord('a')
            out.append((c, r1, r2, n))
        return out
    res = probe(rows(first))
    # the scripts HF knows: their smallest confirmed character becomes their representative
    reps = {}
    for c, n, a, b in res:
        if n != 'Any' and a == '1' and b == '0':
            cp = int(c, 16)
            if cp < reps.get(n, 0x110000):
                reps[n] = cp
    final, todo = {}, []
    for c, n, a, b in probe(rows(reps)):
        cp = int(c, 16)
        if a == '1' and b == '1':
            final[cp] = 'Any'
        elif n != 'Any' and a == '1' and b == '0':
            final[cp] = n
        else:
            todo.append(cp)
    names = sorted(reps)
    hits = {}
    for c, n, a, b in probe([(cp, reps[nm], reps[nm], nm) for cp in todo for nm in names]):
        if a == '1':
            hits.setdefault(int(c, 16), []).append(n)
    for cp in todo:
        v = hits.get(cp, [])
        if len(v) != 1:
            sys.exit('U+%04X: no single script (%s)' % (cp, v))
        final[cp] = v[0]
    ids = {n: i + 1 for i, n in enumerate(names)}
    print('/* The Unicode script of each code point as Hugging Face tokenizers\' own table has it (its')
    print(' * UnicodeScripts pre-tokenizer; Hiragana and Katakana are Han there). GENERATED, do not edit:')
    print(' *   scripts/gen_hf_scripts.py /usr/share/unicode/Scripts.txt > tokenizer/hf_scripts.c')
    print(' * (HF tokenizers 0.23, npm; Unicode 15 Scripts.txt for the candidates). A code point in no')
    print(' * range is one HF does not know: it joins whatever script precedes it. */')
    print('#include "pipe.h"\n')
    print('const bert__script_range bert__hf_scripts[] = {')
    n, c = 0, 0
    while c < 0x110000:
        s = final.get(c, 'Any')
        if s == 'Any':
            c += 1
            continue
        e = c
        while e + 1 < 0x110000 and final.get(e + 1, 'Any') == s:
            e += 1
        print('    {0x%X, 0x%X, %d}, /* %s */' % (c, e, ids[s], s))
        n += 1
        c = e + 1
    print('};')
    print('const size_t bert__hf_scripts_n = %d;' % n)


main()
