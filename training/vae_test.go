package training

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/vae"
	"github.com/rnnkit/rnnkit/training/data"
)

// synthSentences returns n sentences of a small grammar: "the ADJ NOUN
// VERB" with an optional "and the ADJ NOUN", so a latent code has
// something to carry (the adjectives and nouns).
func synthSentences(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 3))
	adj := []string{"red", "big", "old", "small"}
	noun := []string{"cat", "dog", "bird", "fish"}
	verb := []string{"runs", "sleeps", "eats"}
	out := make([]string, n)
	for i := range out {
		s := "the " + adj[r.IntN(4)] + " " + noun[r.IntN(4)] + " " + verb[r.IntN(3)]
		if r.IntN(2) == 0 {
			s += " and the " + adj[r.IntN(4)] + " " + noun[r.IntN(4)]
		}
		out[i] = s
	}
	return out
}

type vaeSetup struct {
	cfg         Config
	model       VAEConfig
	vocab       *data.Vocab
	train, test [][]int
}

func smallVAESetup(latent int) vaeSetup {
	tr, te := synthSentences(1, 96), synthSentences(2, 24)
	v := data.NewWordVocab(tr, 1)
	enc := func(ss []string) [][]int {
		out := make([][]int, len(ss))
		for i, s := range ss {
			out[i] = v.EncodeWords(s)
		}
		return out
	}
	return vaeSetup{
		cfg: Config{Epochs: 2, Optimizer: "adam", LR: 0.01, Clip: 5, Seed: 3},
		model: VAEConfig{Model: vae.Config{Embed: 8, Hidden: 12, Latent: latent, Cell: cells.GRUKind, ZInput: latent > 0},
			Batch: 16, Pad: 4, WordDropout: 0.25, Anneal: vae.Anneal{Kind: vae.AnnealLinear, Steps: 10}, FreeBits: 0.01, IWSamples: 4},
		vocab: v, train: enc(tr), test: enc(te),
	}
}

func (s vaeSetup) new(t *testing.T) *Trainer {
	t.Helper()
	m := must(NewVAE(s.model, s.vocab, s.train))(t)
	return newTrainer(t, s.cfg, m, must(m.Sentences(s.test))(t))
}

// The VAE and the sentence LM train on synthetic sentences: an epoch
// lowers the test NLL, the metrics are consistent (the IW bound at most the
// ELBO, NLL = recon + KL, perplexity from the IW bound), a run resumed
// mid-epoch ends bit for bit as one never stopped (ε, word dropout and β
// included), a checkpoint opens into a model that evaluates the same, and
// the model samples, reconstructs and interpolates.
func TestVAETrainsAndResumes(t *testing.T) {
	for _, latent := range []int{4, 0} {
		s := smallVAESetup(latent)
		tr := s.new(t)
		ctx := context.Background()
		m0 := must(tr.Evaluate(ctx, tr.Test))(t)
		st := must(tr.RunEpoch(ctx, nil))(t)
		ms := st.Test
		t.Logf("latent %d: nll %.3f → %.3f, %v, %d graphs", latent, m0[MetricLoss], ms[MetricLoss], ms, len(tr.Compiled))
		if !(ms[MetricLoss] < m0[MetricLoss]) {
			t.Errorf("latent %d: test NLL %v → %v after an epoch", latent, m0[MetricLoss], ms[MetricLoss])
		}
		if d := ms[VAEMetricNLL] - ms[VAEMetricRecon] - ms[VAEMetricKL]; math.Abs(d) > 1e-9 {
			t.Errorf("nll − recon − kl = %v", d)
		}
		if ms[VAEMetricIWNLL] > ms[VAEMetricNLL]+1e-9 || ms[VAEMetricKL] < 0 {
			t.Errorf("IW bound %v above the ELBO's NLL %v, or KL %v < 0", ms[VAEMetricIWNLL], ms[VAEMetricNLL], ms[VAEMetricKL])
		}
		tokens := 0
		for _, x := range s.test {
			tokens += len(x) + 1
		}
		if want := math.Exp(ms[VAEMetricIWNLL] * float64(len(s.test)) / float64(tokens)); math.Abs(ms[MetricPerplexity]-want) > 1e-9*want {
			t.Errorf("perplexity %v, want %v", ms[MetricPerplexity], want)
		}
		if au := ms[VAEMetricActiveUnits]; au < 0 || au > float64(latent) {
			t.Errorf("%v active units of %d", au, latent)
		}
		if latent == 0 && (ms[VAEMetricKL] != 0 || ms[VAEMetricIWNLL] != ms[VAEMetricNLL]) {
			t.Errorf("the LM: %v", ms)
		}
		checkResume(t, s.new, 2)
		vm := tr.Model.(*VAE)
		want := must(tr.Evaluate(ctx, tr.Test))(t)
		opened := must(Open(saveLoad(t, tr)))(t)
		got := must(opened.Evaluate(ctx, must(opened.Model.(*VAE).Sentences(s.test))(t)))(t)
		opened.Close()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %v after Open, %v before", k, got[k], v)
			}
		}
		out := must(vm.SamplePrior(3, VAEGenOptions{MaxLen: 12, NoUNK: true}, graph.NewSource(1)))(t)
		if len(out) != 3 || strings.Contains(strings.Join(out, " "), data.UNKToken) {
			t.Errorf("samples without <unk>: %q", out)
		}
		if latent == 0 {
			if _, err := vm.Reconstruct("the red cat runs", VAEGenOptions{MaxLen: 12}); err == nil || !strings.Contains(err.Error(), "no latent") {
				t.Errorf("the LM reconstructs: %v", err)
			}
			continue
		}
		path := must(vm.Interpolate("the red cat runs", "the old fish eats and the big dog", 4, VAEGenOptions{MaxLen: 12}))(t)
		if len(path) != 4 {
			t.Errorf("interpolation %q", path)
		}
		t.Logf("samples %q, interpolation %q", out, path)
		if _, err := vm.Reconstruct("   ", VAEGenOptions{MaxLen: 12}); err == nil || !strings.Contains(err.Error(), "no words") {
			t.Errorf("an empty sentence: %v", err)
		}
	}
}

// The ids models/vae uses are the vocabularies'; bad sentences are errors
// naming the sentence.
func TestVAERefuses(t *testing.T) {
	if vae.PAD != data.PAD || vae.BOS != data.BOS || vae.EOS != data.EOS || vae.UNK != data.UNK {
		t.Fatal("models/vae's special ids differ from training/data's")
	}
	s := smallVAESetup(4)
	if _, err := NewVAE(s.model, s.vocab, [][]int{{4}, {}}); err == nil || !strings.Contains(err.Error(), "sentence 2 is empty") {
		t.Errorf("an empty sentence: %v", err)
	}
	m := must(NewVAE(s.model, s.vocab, nil))(t)
	if _, err := m.Sentences([][]int{{4, 999}}); err == nil || !strings.Contains(err.Error(), "word 2: id 999") {
		t.Errorf("an id outside the vocabulary: %v", err)
	}
	for _, c := range []func(*VAEConfig){
		func(c *VAEConfig) { c.IWSamples = 0 }, func(c *VAEConfig) { c.WordDropout = 1.5 },
		func(c *VAEConfig) { c.FreeBits = math.NaN() }, func(c *VAEConfig) { c.Anneal.Kind = "cosine" },
		func(c *VAEConfig) { c.Pad = 0 },
	} {
		cfg := s.model
		c(&cfg)
		if _, err := NewVAE(cfg, s.vocab, nil); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
