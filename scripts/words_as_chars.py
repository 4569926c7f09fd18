#!/usr/bin/env python3
"""Write a word-level text as one character per word, so that rnnkit's
charlm preset trains a word-level language model on it.

The input has one sentence a line, words separated by spaces (as
scripts/make_brown_sentences.py writes Brown). The lines are shuffled with
--seed (so the charlm preset's first-90% / last-10% split draws training
and test sentences from the same mix of genres) and the first --tokens
tokens' worth of lines kept. A token is a word or the end of a line. The
vocabulary is the --vocab - 6 most frequent words of the first 90% of the
tokens (ties in byte order), each written as one code point from U+4E00 on;
every other word is one <unk> code point after them; the end of a sentence
stays "\\n". charlm's vocabulary is then its four special tokens plus these
--vocab - 4 characters: exactly --vocab, and a character model of this file
is a word model of the text.

Writes OUT (the whole text, for `rnnkit train -preset charlm -data OUT`),
OUT.test (its last 10% as the preset cuts it: `rnnkit eval -data`) and
OUT.vocab (the words in code-point order, one a line).

usage: scripts/words_as_chars.py IN OUT [--vocab 10000] [--tokens 400000] [--seed 1]
"""
import argparse
import collections
import random

BASE = 0x4E00


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--tokens", type=int, default=400000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with open(a.input, encoding="utf-8") as f:
        lines = [ln.split() for ln in f]
    lines = [ws for ws in lines if ws]
    random.Random(a.seed).shuffle(lines)
    kept, n = [], 0
    for ws in lines:
        if n >= a.tokens:
            break
        kept.append(ws)
        n += len(ws) + 1
    cut = n * 9 // 10  # charlm's cut: len(ids)*9/10
    counts, seen = collections.Counter(), 0
    for ws in kept:
        for w in ws:
            if seen < cut:
                counts[w] += 1
            seen += 1
        seen += 1
    words = sorted(counts, key=lambda w: (-counts[w], w))[: a.vocab - 6]
    code = {w: chr(BASE + i) for i, w in enumerate(words)}
    unk = chr(BASE + len(words))
    text = "".join("".join(code.get(w, unk) for w in ws) + "\n" for ws in kept)
    assert len(text) == n
    with open(a.output, "w", encoding="utf-8") as f:
        f.write(text)
    with open(a.output + ".test", "w", encoding="utf-8") as f:
        f.write(text[cut:])
    with open(a.output + ".vocab", "w", encoding="utf-8") as f:
        f.write("\n".join(words + ["<unk>"]) + "\n")
    chars = len(set(text))
    oov = sum(1 for ch in text if ch == unk)
    print("%s: %d lines, %d tokens (%d train, %d test), %d characters (charlm vocabulary %d), <unk> %.2f%%"
          % (a.output, len(kept), n, cut, n - cut, chars, chars + 4, 100.0 * oov / n))


if __name__ == "__main__":
    main()
