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
