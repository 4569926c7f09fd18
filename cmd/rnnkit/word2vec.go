package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/word2vec"
)

func init() {
	commands["word2vec"] = command{"train word vectors (skip-gram or CBOW) with the C tool's flags and file formats", runWord2vec}
}

// maxW2VIter bounds -iter.
const maxW2VIter = 1_000_000

func runWord2vec(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("word2vec", "",
		"Trains word vectors on a text corpus as the original word2vec tool does (same algorithm,\n"+
			"same random draws, same flags and defaults), with Hogwild goroutines and SIMD inner\n"+
			"loops. Words are separated by spaces, tabs and newlines; a newline ends a sentence.\n"+
			"The vectors are written in the C tool's text format (-binary 0), its binary format\n"+
			"(-binary 1) or, for an -output ending in .safetensors, as a safetensors file; a JSON\n"+
			"record of the run (settings, seed, speed, Go version, git revision) goes next to it\n"+
			"as OUTPUT.json. With -threads 1 a run is exactly reproducible from its -seed; with\n"+
			"more threads the updates interleave by timing (see docs/models.md).", stderr)
	def := word2vec.DefaultConfig()
	train := fs.String("train", "", "the training corpus (text)")
	output := fs.String("output", "", "the file to write the vectors to")
	cbow := fs.Int("cbow", 1, "1: continuous bag of words; 0: skip-gram")
	size := fs.Int("size", def.Size, "vector size")
	window := fs.Int("window", def.Window, "largest distance between the centre word and a context word")
	negative := fs.Int("negative", def.Negative, "negative samples per prediction (0: none)")
	hs := fs.Int("hs", 0, "1: hierarchical softmax")
	sample := fs.Float64("sample", def.Sample, "sub-sampling threshold of frequent words (0: off)")
	iter := fs.Int("iter", def.Iter, "passes over the corpus")
	minCount := fs.Int("min-count", def.MinCount, "leave out words that occur fewer times")
	threads := fs.Int("threads", runtime.NumCPU(), "training goroutines")
	alpha := fs.Float64("alpha", 0, "starting learning rate (0: 0.025 for skip-gram, 0.05 for CBOW)")
	bin := fs.Int("binary", 0, "1: the C tool's binary format")
	seed := fs.Uint64("seed", 0, "seed of the random streams (0: the C tool's own)")
	if help, err := parseOnlyFlags(fs, args, "word2vec"); help || err != nil {
		return err
	}
	if err := checks("word2vec", nonEmpty("train", *train), nonEmpty("output", *output),
		intIn("cbow", *cbow, 0, 1), intIn("hs", *hs, 0, 1), intIn("binary", *bin, 0, 1),
		intIn("size", *size, 1, word2vec.MaxSize), intIn("window", *window, 1, word2vec.MaxWindow),
		intIn("negative", *negative, 0, word2vec.MaxNeg), intIn("iter", *iter, 1, maxW2VIter),
		intIn("min-count", *minCount, 1, 1<<30), intIn("threads", *threads, 1, word2vec.MaxThreads),
		floatIn("sample", *sample, 0, 0.999999), floatIn("alpha", *alpha, 0, 10)); err != nil {
		return err
	}
	cfg := word2vec.Config{CBOW: *cbow == 1, Size: *size, Window: *window, Negative: *negative, HS: *hs == 1,
		Sample: *sample, Iter: *iter, MinCount: *minCount, Threads: *threads, Alpha: *alpha, Seed: *seed}
	if err := cfg.Validate(); err != nil {
		return usageError{"word2vec: " + err.Error()}
	}
	format := word2vec.Text
	if *bin == 1 {
		format = word2vec.Binary
	}
	if word2vec.FormatOf(*output) == word2vec.Safetensors {
		format = word2vec.Safetensors
	}
	if err := inputFile("train", *train); err != nil {
		return errors.Wrap(err, "word2vec")
	}
	if err := outputFile("output", *output); err != nil {
		return errors.Wrap(err, "word2vec")
	}
	wall := time.Now()
	fmt.Fprintf(stderr, "Starting training using file %s\n", *train)
	corpus, err := word2vec.ReadCorpusFile(*train, cfg.MinCount)
	if err != nil {
		return errors.Wrap(err, "word2vec: -train")
	}
	fmt.Fprintf(stdout, "Vocab size: %d\nWords in train file: %d\n", corpus.Vocab.Len(), corpus.TrainWords)
	show := newW2VProgress(stderr)
	m, sum, err := word2vec.Train(ctx, corpus, cfg, show.report)
	show.end()
	if err != nil {
		return errors.Wrap(err, "word2vec")
	}
	if err := m.Vectors().WriteFile(*output, format); err != nil {
		return errors.Wrap(err, "word2vec: -output")
	}
	total := time.Since(wall).Seconds()
	rec := w2vRecord{Config: cfg, Alpha: cfg.StartAlpha(), Format: format.String(), Corpus: *train, CorpusBytes: corpus.Bytes,
		Summary: sum, WallSeconds: total, GoVersion: runtime.Version(), Revision: gitRevision()}
	if b, err := json.MarshalIndent(rec, "", "  "); err == nil {
		if err := os.WriteFile(*output+".json", append(b, '\n'), 0o644); err != nil {
			return errors.Wrap(err, "word2vec: the run record")
		}
	}
	fmt.Fprintf(stdout, "Trained %d words in %.1fs (%.0f words/s, %.0f words/s/thread); %.1fs in all (%.0f corpus words/s); wrote %s (%s, %d × %d)\n",
		sum.Words, sum.Seconds, sum.WordsPerSec, sum.WordsPerSec/float64(cfg.Threads), total,
		float64(sum.Words)/total, *output, format, corpus.Vocab.Len(), cfg.Size)
	return nil
}

// w2vRecord is the JSON record written next to the vectors.
type w2vRecord struct {
	Config      word2vec.Config  `json:"config"`
	Alpha       float64          `json:"start_alpha"`
	Format      string           `json:"format"`
	Corpus      string           `json:"corpus"`
	CorpusBytes int64            `json:"corpus_bytes"`
	Summary     word2vec.Summary `json:"summary"`
	WallSeconds float64          `json:"wall_seconds"`
	GoVersion   string           `json:"go_version"`
	Revision    string           `json:"revision"`
}

// w2vProgress prints training progress: a line redrawn in place on a
// terminal, a line every tenth of the run otherwise.
type w2vProgress struct {
	w        io.Writer
	terminal bool
	next     float64 // the fraction done at which the next plain line is due
	drawn    bool
}

func newW2VProgress(w io.Writer) *w2vProgress {
	p := &w2vProgress{w: w, next: 0.1}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *w2vProgress) report(s word2vec.Progress) {
	done := float64(s.Words) / float64(max(s.Total, 1))
	line := fmt.Sprintf("Alpha: %f  Progress: %.2f%%  Words/sec: %.1fk  ETA: %v", s.Alpha, 100*done, s.WordsPerSec()/1000, s.ETA().Round(time.Second))
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s ", line)
		p.drawn = true
		return
	}
	if done >= p.next {
		fmt.Fprintln(p.w, line)
		for p.next <= done {
			p.next += 0.1
		}
	}
}

func (p *w2vProgress) end() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
