package training

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
)

// answers decodes every question greedily, by beam search and by seeded
// sampling (seeded by the question) with translate.
func answers(t *testing.T, questions []string, translate func(q string, so *decode.SampleOptions, beam int) ([]string, error)) []string {
	t.Helper()
	var out []string
	for _, q := range questions {
		h := fnv.New64a()
		h.Write([]byte(q))
		for _, mode := range []struct {
			so   *decode.SampleOptions
			beam int
		}{{nil, 0}, {nil, 3}, {&decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(h.Sum64())}, 0}} {
			a, err := translate(q, mode.so, mode.beam)
			if err != nil {
				t.Error(err)
				return nil
			}
			out = append(out, a[0])
		}
	}
	return out
}

// One trained model served to 8 goroutines at once, each decoding with its
// own Translator (its own compiled graphs and its own copy of the
// parameters, see Translator), gives exactly the answers of serial
// decoding; so do 8 goroutines calling the run's own TranslateWith, which
// take turns. Run it under -race:
//
//	go test -race ./training -run TestConcurrentDecoding
func TestConcurrentDecoding(t *testing.T) {
	tr, setup := smallRun(t, 0.2)
	test := setup.test
	if _, _, err := tr.TrainEpoch(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	// Serve the model as the translate command does: from its checkpoint.
	opened, err := Open(saveLoad(t, tr))
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	model := s2s(opened)
	questions := make([]string, 0, 8)
	for _, p := range test[:min(6, len(test))] {
		questions = append(questions, p.Question)
	}
	questions = append(questions, "9\xff9+1", "??")
	own := func(q string, so *decode.SampleOptions, beam int) ([]string, error) {
		return model.TranslateWith(q, decode.Options{}, so, beam)
	}
	serial := answers(t, questions, own)
	if trained := answers(t, questions, func(q string, so *decode.SampleOptions, beam int) ([]string, error) {
		return s2s(tr).TranslateWith(q, decode.Options{}, so, beam)
	}); !slices.Equal(trained, serial) {
		t.Fatalf("the model loaded from its checkpoint answers otherwise than the trained run:\n%q\n%q", trained, serial)
	}

	const workers = 8
	for _, c := range []struct {
		name string
		get  func() (func(string, *decode.SampleOptions, int) ([]string, error), func(), error)
	}{
		{"a Translator each", func() (func(string, *decode.SampleOptions, int) ([]string, error), func(), error) {
			x, err := model.NewTranslator()
			if err != nil {
				return nil, nil, err
			}
			return func(q string, so *decode.SampleOptions, beam int) ([]string, error) {
				return x.TranslateWith(q, decode.Options{}, so, beam)
			}, func() { x.Close() }, nil
		}},
		{"the run's TranslateWith", func() (func(string, *decode.SampleOptions, int) ([]string, error), func(), error) {
			return own, func() {}, nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			results := make([][]string, workers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					translate, closeIt, err := c.get()
					if err != nil {
						t.Error(err)
						return
					}
					defer closeIt()
					<-start
					// Each worker starts at another question, so different
					// graphs are compiled and run at the same moment.
					qs := append(slices.Clone(questions[w%len(questions):]), questions[:w%len(questions)]...)
					got := answers(t, qs, translate)
					k := (w % len(questions)) * 3
					results[w] = append(slices.Clone(got[len(got)-k:]), got[:len(got)-k]...)
				}()
			}
			close(start)
			wg.Wait()
			for w, got := range results {
				if !slices.Equal(got, serial) {
					t.Errorf("worker %d: %s", w, firstDiff(got, serial, questions))
				}
			}
		})
	}
}

func firstDiff(got, want, questions []string) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d answers, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("question %q (mode %d): %q, serially %q", questions[i/3], i%3, got[i], want[i])
		}
	}
	return ""
}
