package parity

import (
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/internal/fixture"
)

func TestPublicFixtures(t *testing.T) {
	for _, name := range []string{"rnn_tanh", "lstm", "gru", "peephole_lstm", "lstm_2layer", "bilstm"} {
		t.Run(name, func(t *testing.T) {
			f, err := fixture.Read(filepath.Join("..", "..", "testdata", "fixtures", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range res.Diffs {
				t.Logf("%-16s %.3g", d.Name, d.MaxAbs)
			}
			if !res.Pass(Tolerance) {
				t.Errorf("%s: output error %.3g, gradient error %.3g, want ≤ %g", name, res.OutErr, res.GradErr, Tolerance)
			}
		})
	}
}
