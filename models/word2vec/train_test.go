package word2vec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// topicCorpus returns sentences of 8 words each drawn from one of two
// topics of 15 words ("a0".."a14", "b0".."b14"), 4000 sentences from a
// fixed seed: a word's neighbours should be its topic's words.
func topicCorpus(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 2))
	var b strings.Builder
	for range 4000 {
		topic := "ab"[r.IntN(2)]
		for j := range 8 {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%c%d", topic, r.IntN(15))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func trainText(t *testing.T, text string, cfg Config) (*Model, Summary) {
	t.Helper()
	c, err := ReadCorpus(strings.NewReader(text), cfg.MinCount)
	if err != nil {
		t.Fatal(err)
	}
	m, s, err := Train(context.Background(), c, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

func smallConfig(cbow, hs bool) Config {
	cfg := DefaultConfig()
	cfg.CBOW, cfg.HS, cfg.Size, cfg.Iter, cfg.Window = cbow, hs, 16, 3, 3
	if hs {
		cfg.Negative = 0
	}
	return cfg
}

// topicAccuracy is the fraction of words whose 5 nearest neighbours are
// all of their own topic.
func topicAccuracy(t *testing.T, v *Vectors) float64 {
	t.Helper()
	good, n := 0, 0
	for _, w := range v.Words {
		if w == EndOfSentence {
			continue
		}
		nb, err := v.Neighbors(w, 5)
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		for _, x := range nb {
			ok = ok && x.Word[0] == w[0]
		}
		if ok {
			good++
		}
		n++
	}
	return float64(good) / float64(n)
}

// Every architecture and output layer learns the topics: each word's
// nearest neighbours are words of its own topic.
func TestTrainLearnsTopics(t *testing.T) {
	text := topicCorpus(1)
	for _, c := range []struct {
		name     string
		cbow, hs bool
	}{{"skipgram-ns", false, false}, {"skipgram-hs", false, true}, {"cbow-ns", true, false}, {"cbow-hs", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			m, s := trainText(t, text, smallConfig(c.cbow, c.hs))
			acc := topicAccuracy(t, m.Vectors())
			t.Logf("%d words trained at %.0f words/s; %.0f%% of words have only their topic among 5 neighbours", s.Words, s.WordsPerSec, 100*acc)
			if acc < 0.9 {
				t.Errorf("only %.0f%% of words have only their topic among 5 neighbours", 100*acc)
			}
			if s.Words != 3*s.TrainWords {
				t.Errorf("%d words processed, want 3 passes of %d", s.Words, s.TrainWords)
			}
		})
	}
}

// With one thread and a seed, two runs write byte-identical files in
// every format; another seed gives other vectors.
func TestOneThreadIsDeterministic(t *testing.T) {
	text := topicCorpus(2)
	for _, arch := range []bool{false, true} {
		cfg := smallConfig(arch, false)
		cfg.Seed, cfg.Threads = 7, 1
		var files [3][3][]byte
		for run, seed := range []uint64{7, 7, 8} {
			cfg.Seed = seed
			m, _ := trainText(t, text, cfg)
			for f, format := range []Format{Text, Binary, Safetensors} {
				var b bytes.Buffer
				if err := m.Vectors().Write(&b, format); err != nil {
					t.Fatal(err)
				}
				files[run][f] = b.Bytes()
			}
		}
		for f, format := range []Format{Text, Binary, Safetensors} {
			if !bytes.Equal(files[0][f], files[1][f]) {
				t.Errorf("cbow %v, %v: two runs with seed 7 differ", arch, format)
			}
			if bytes.Equal(files[0][f], files[2][f]) {
				t.Errorf("cbow %v, %v: seeds 7 and 8 give the same file", arch, format)
			}
		}
	}
}

// With several threads, each thread's draws and schedule are fixed: the
// words processed are the same on every run, and the runs learn alike.
func TestThreadsReproducibleInStatistics(t *testing.T) {
	if raceEnabled {
		t.Skip("Hogwild threads race by design (-race)")
	}
	text := topicCorpus(3)
	cfg := smallConfig(false, false)
	cfg.Threads = 3
	var words []int64
	for range 2 {
		m, s := trainText(t, text, cfg)
		words = append(words, s.Words)
		if acc := topicAccuracy(t, m.Vectors()); acc < 0.9 {
			t.Errorf("3 threads: %.0f%% of words have only their topic among 5 neighbours", 100*acc)
		}
	}
	if words[0] != words[1] {
		t.Errorf("words processed: %d, then %d", words[0], words[1])
	}
}

// A cancelled context stops training with the context's error.
func TestTrainCancelled(t *testing.T) {
	c, err := ReadCorpus(strings.NewReader(topicCorpus(4)), 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig(false, false)
	cfg.Iter = 1000
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, s, err := Train(ctx, c, cfg, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	if s.Words >= 1000*c.TrainWords || time.Since(start) > 10*time.Second {
		t.Errorf("stopped after %d words, %v", s.Words, time.Since(start))
	}
}

// Progress is reported, with a falling learning rate and an ETA.
func TestTrainProgress(t *testing.T) {
	c, err := ReadCorpus(strings.NewReader(topicCorpus(5)), 1)
	if err != nil {
		t.Fatal(err)
	}
	saved := ProgressInterval
	ProgressInterval = time.Millisecond
	defer func() { ProgressInterval = saved }()
	var reports []Progress
	cfg := smallConfig(false, false)
	cfg.Iter = 20
	if _, _, err := Train(context.Background(), c, cfg, func(p Progress) { reports = append(reports, p) }); err != nil {
		t.Fatal(err)
	}
	last := reports[len(reports)-1]
	if len(reports) < 2 || last.Words != last.Total || last.Alpha >= 0.025*0.01 || last.ETA() != 0 {
		t.Errorf("%d reports, last %+v", len(reports), last)
	}
	if mid := reports[len(reports)/2]; mid.Words > 0 && mid.Words < mid.Total && (mid.ETA() <= 0 || mid.WordsPerSec() <= 0) {
		t.Errorf("mid-run report %+v: ETA %v, %v words/s", mid, mid.ETA(), mid.WordsPerSec())
	}
}

// Settings out of range are errors naming the C tool's flag.
func TestConfigValidate(t *testing.T) {
	for flag, mod := range map[string]func(*Config){
		"-size":      func(c *Config) { c.Size = 0 },
		"-window":    func(c *Config) { c.Window = 0 },
		"-negative":  func(c *Config) { c.Negative = -1 },
		"-sample":    func(c *Config) { c.Sample = 1 },
		"-iter":      func(c *Config) { c.Iter = 0 },
		"-min-count": func(c *Config) { c.MinCount = 0 },
		"-threads":   func(c *Config) { c.Threads = 0 },
		"-alpha":     func(c *Config) { c.Alpha = -1 },
	} {
		cfg := DefaultConfig()
		mod(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s: %v", flag, err)
		}
	}
	cfg := DefaultConfig()
	cfg.Negative = 0
	if err := cfg.Validate(); err == nil {
		t.Error("no output layer: no error")
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if a := DefaultConfig().StartAlpha(); a != 0.05 {
		t.Errorf("CBOW default alpha %v", a)
	}
}
