package word2vec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// zipfCorpus returns a synthetic corpus of n words over a vocabulary of
// size v with Zipf-distributed frequencies (exponent about 1, as English),
// sentences of 5 to 30 words, from a fixed seed.
func zipfCorpus(n, v int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 1))
	z := rand.NewZipf(r, 1.07, 2, uint64(v-1))
	var b strings.Builder
	for written := 0; written < n; {
		k := 5 + r.IntN(26)
		for j := range k {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "w%d", z.Uint64())
		}
		b.WriteByte('\n')
		written += k
	}
	return b.String()
}

// benchCorpus is the corpus the training benchmarks run on: the file named
// by RNNKIT_W2V_CORPUS, or a synthetic Zipf corpus of 1M words.
func benchCorpus(b *testing.B) *Corpus {
	b.Helper()
	if path := os.Getenv("RNNKIT_W2V_CORPUS"); path != "" {
		c, err := ReadCorpusFile(path, 5)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	c, err := ReadCorpus(strings.NewReader(zipfCorpus(1_000_000, 50_000, 1)), 5)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkTrain trains one pass of skip-gram and CBOW (negative sampling,
// the C tool's defaults otherwise) and reports corpus words per second.
func BenchmarkTrain(b *testing.B) {
	c := benchCorpus(b)
	for _, arch := range []string{"skipgram", "cbow", "skipgram-hs"} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", arch, threads), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.CBOW, cfg.Iter, cfg.Threads = arch == "cbow", 1, threads
				if arch == "skipgram-hs" {
					cfg.HS, cfg.Negative = true, 0
				}
				var words int64
				for b.Loop() {
					_, s, err := Train(context.Background(), c, cfg, nil)
					if err != nil {
						b.Fatal(err)
					}
					words += s.Words
				}
				b.ReportMetric(float64(words)/b.Elapsed().Seconds(), "words/s")
			})
		}
	}
}
