package training

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/hred"
	"github.com/rnnkit/rnnkit/models/hred/dialog"
	"github.com/rnnkit/rnnkit/training/data"
)

// smallDialog returns a small dialogue run of kind k on synthetic
// dialogues.
func smallDialog(k hred.Kind) func(t *testing.T) *Trainer {
	ds := dialog.Synthetic(120, graph.NewSource(4), dialog.SynthOptions{})
	train, test := dialog.Split(ds)
	return func(t *testing.T) *Trainer {
		t.Helper()
		cfg := DialogConfig{Model: hred.Config{Kind: k, Embed: 6, Hidden: 8, Context: 8, Latent: 3, Cell: cells.GRUKind},
			Batch: 16, BucketWidth: 2, WordDropout: 0.2, KLAnneal: 10, ExactMatch: true}
		v := data.NewWordVocab(dialog.Texts(train), 1)
		m := must(NewDialog(cfg, v, train))(t)
		return newTrainer(t, Config{Epochs: 2, Optimizer: "adam", LR: 1e-2, Clip: 5, Seed: 3}, m, must(m.Dialogues(test))(t))
	}
}

// Every kind trains on a few synthetic dialogues: an epoch lowers the
// test loss, the metrics are consistent (perplexity = exp(loss), the KL of
// VHRED positive), a handful of graphs serve the bucketed batches, it
// replies, and a run stopped mid-epoch and resumed from its checkpoint ends
// bit for bit as one never stopped (ε and word dropout included).
func TestDialogTrainsAndResumes(t *testing.T) {
	for _, k := range []hred.Kind{hred.Seq2Seq, hred.HRED, hred.VHRED} {
		t.Run(string(k), func(t *testing.T) {
			newRun := smallDialog(k)
			tr := newRun(t)
			ctx := context.Background()
			m0 := must(tr.Evaluate(ctx, tr.Test))(t)
			st, err := tr.RunEpoch(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("test loss %.4f → %.4f, metrics %v, %d graphs", m0[MetricLoss], st.TestLoss(), st.Test, len(tr.Compiled))
			if !(st.TestLoss() < m0[MetricLoss]) {
				t.Errorf("test loss %v → %v after an epoch", m0[MetricLoss], st.TestLoss())
			}
			ms := st.Test
			if math.Abs(ms[MetricPerplexity]-math.Exp(ms[MetricLoss])) > 1e-9 {
				t.Errorf("perplexity %v, loss %v", ms[MetricPerplexity], ms[MetricLoss])
			}
			if kl, ok := ms[MetricKLPerSentence]; ok != (k == hred.VHRED) || (ok && !(kl > 0)) {
				t.Errorf("KL per sentence %v (%v)", kl, ok)
			}
			if em := ms[MetricExactMatch]; !(em >= 0 && em <= 1) {
				t.Errorf("exact match %v", em)
			}
			if len(tr.Compiled) > 24 { // training and evaluation shapes
				t.Errorf("%d graphs compiled", len(tr.Compiled))
			}
			m := tr.Model.(*Dialog)
			r, err := m.Reply([]string{"my favourite colour is red .", "what is my favourite colour ?"}, ReplyOptions{Beam: 2})
			if err != nil {
				t.Fatalf("reply %q, %v", r, err)
			}
			if _, err := m.Reply([]string{"hello", "  "}, ReplyOptions{}); err == nil || !strings.Contains(err.Error(), "utterance 2 is empty") {
				t.Errorf("an empty utterance: %v", err)
			}
			checkResume(t, newRun, 2)
		})
	}
}

// The examples of a dialogue: every reply with the utterances before it
// (the last MaxContext), or with LastOnly the last one; bad dialogues are
// errors naming them.
func TestDialogExamples(t *testing.T) {
	v := data.NewWordVocab([]string{"a b c d e"}, 1)
	m := must(NewDialog(DialogConfig{Model: hred.Config{Kind: hred.HRED, Embed: 2, Hidden: 2, Context: 2, Cell: cells.GRUKind},
		Batch: 2, BucketWidth: 1, MaxContext: 2, MaxLen: 2}, v, nil))(t)
	ex := must(m.Examples([]dialog.Dialogue{{"a", "b c d", "e", "a b"}}))(t)
	if len(ex) != 3 || len(ex[2].Context) != 2 || len(ex[2].Context[0]) != 2 || len(ex[0].Context) != 1 {
		t.Fatalf("examples %v", ex)
	}
	if _, err := m.Examples([]dialog.Dialogue{{"a", "b"}, {"a"}}); err == nil || !strings.Contains(err.Error(), "dialogue 2 has 1 utterances") {
		t.Errorf("a one-utterance dialogue: %v", err)
	}
	m.Cfg.LastOnly = true
	ex = must(m.Examples([]dialog.Dialogue{{"a", "b c d", "e", "a b"}}))(t)
	if len(ex) != 1 || len(ex[0].Context) != 2 {
		t.Fatalf("last only: %v", ex)
	}
}

// VHRED's importance-weighted bound, with one latent dimension so that
// log p(x | c) = log ∫ p(x | z, c) p(z | c) dz can be integrated on a grid
// (z set through ε = (z − μ_q) / σ_q). With 1,024 samples the bound's
// estimate of p(x | c) is within five of its standard errors of the
// integral for every reply, it is below the same samples' ELBO estimate
// (Jensen), and Evaluate reports it with its perplexity.
func TestDialogIWBound(t *testing.T) {
	ds := dialog.Synthetic(80, graph.NewSource(4), dialog.SynthOptions{})
	train, test := dialog.Split(ds)
	cfg := DialogConfig{Model: hred.Config{Kind: hred.VHRED, Embed: 6, Hidden: 8, Context: 8, Latent: 1, Cell: cells.GRUKind},
		Batch: 16, BucketWidth: 2, KLAnneal: 10, IWSamples: 4}
	m := must(NewDialog(cfg, data.NewWordVocab(dialog.Texts(train), 1), train))(t)
	tr := newTrainer(t, Config{Epochs: 1, Optimizer: "adam", LR: 1e-2, Clip: 5, Seed: 3, Dtype: "float64"}, m, must(m.Dialogues(test))(t))
	ctx := context.Background()
	st, err := tr.RunEpoch(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	set := tr.Test.(*DialogSet)
	ms := st.Test
	t.Logf("ELBO NLL/sentence %.4f, IW(4) %.4f, IW perplexity %.4f", ms[MetricNLLPerSentence], ms[MetricIWNLLPerSentence], ms[MetricIWPerplexity])
	n := float64(len(set.examples))
	iw4 := must(m.iwBound(ctx, set, tr.forward))(t)
	if d := math.Abs(iw4/n - ms[MetricIWNLLPerSentence]); d > 1e-9 {
		t.Errorf("Evaluate's IW NLL/sentence %v, iwBound's %v", ms[MetricIWNLLPerSentence], iw4/n)
	}
	tokens := 0
	for _, e := range set.examples {
		tokens += len(e.Reply) + 1
	}
	if d := math.Abs(math.Exp(iw4/float64(tokens)) - ms[MetricIWPerplexity]); d > 1e-9 {
		t.Errorf("IW perplexity %v, want %v", ms[MetricIWPerplexity], math.Exp(iw4/float64(tokens)))
	}

	// The integral, reply by reply: a grid over z wide enough for the
	// prior and the posterior of every reply.
	var exact []float64
	for _, b := range set.batches {
		B := b.dims.B
		m.evalEps = make([]float64, B)
		must(tr.forward(b))(t)
		o := m.out
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range b.ex {
			for _, g := range [][2]float64{{o.muQ[i], o.lvQ[i]}, {o.muP[i], o.lvP[i]}} {
				sd := math.Exp(g[1] / 2)
				lo, hi = math.Min(lo, g[0]-10*sd), math.Max(hi, g[0]+10*sd)
			}
		}
		const steps = 1000
		dz := (hi - lo) / steps
		logf := make([][]float64, len(b.ex))
		muQ, sdQ := o.muQ, make([]float64, B)
		for i := range sdQ {
			sdQ[i] = math.Exp(o.lvQ[i] / 2)
		}
		muP, lvP := o.muP, o.lvP
		for j := 0; j <= steps; j++ {
			z := lo + float64(j)*dz
			eps := make([]float64, B)
			for i := range eps {
				eps[i] = (z - muQ[i]) / sdQ[i]
			}
			m.evalEps = eps
			must(tr.forward(b))(t)
			w := 1.0
			if j == 0 || j == steps {
				w = 0.5 // trapezoid
			}
			for i, e := range b.ex {
				rec := 0.0
				for s := 0; s <= len(e.Reply); s++ {
					rec += m.out.tokNLL[s*B+i] * float64(m.out.tokens)
				}
				d := z - muP[i]
				lp := -0.5 * (math.Log(2*math.Pi) + lvP[i] + d*d*math.Exp(-lvP[i]))
				logf[i] = append(logf[i], -rec+lp+math.Log(w*dz))
			}
		}
		for i := range b.ex {
			exact = append(exact, -vaeLogSumExp(logf[i]))
		}
	}
	m.evalEps, m.out = nil, dialogOut{}
	const K = 1024
	logw := must(m.iwLogWeights(ctx, set, tr.forward, K))(t)
	if len(logw) != len(exact) {
		t.Fatalf("%d replies' weights, %d integrals", len(logw), len(exact))
	}
	var sumIW, sumExact, sumELBO float64
	for i, lw := range logw {
		iw := -(vaeLogSumExp(lw) - math.Log(K))
		// The standard error of log of the mean weight: sd(w) / mean(w) / √K.
		mean, sq := 0.0, 0.0
		mx := vaeLogSumExp(lw) - math.Log(K)
		elbo := 0.0
		for _, v := range lw {
			w := math.Exp(v - mx)
			mean += w / K
			sq += w * w / K
			elbo -= v / K
		}
		se := math.Sqrt(math.Max(sq-mean*mean, 0)) / mean / math.Sqrt(K)
		if math.Abs(iw-exact[i]) > 5*se+1e-6 {
			t.Errorf("reply %d: IW bound %.6f, integral %.6f, standard error %.3g", i, iw, exact[i], se)
		}
		if !(iw <= elbo+1e-12) {
			t.Errorf("reply %d: IW bound %.6f above its samples' ELBO %.6f", i, iw, elbo)
		}
		sumIW, sumExact, sumELBO = sumIW+iw, sumExact+exact[i], sumELBO+elbo
	}
	t.Logf("per reply: −log p(x | c) by quadrature %.5f, IW bound (k = %d) %.5f, the same samples' ELBO %.5f", sumExact/n, K, sumIW/n, sumELBO/n)
}
