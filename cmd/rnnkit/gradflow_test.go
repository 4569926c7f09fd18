package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
)

func TestGradflow(t *testing.T) {
	png := filepath.Join(t.TempDir(), "g.png")
	so, se, code := runCmd(t, "gradflow", "-steps", "30", "-hidden", "16", "-batch", "4", "-out", png, "-forget-bias", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	if fi, err := os.Stat(png); err != nil || fi.Size() < 1000 {
		t.Fatalf("no PNG: %v", err)
	}
	if !strings.Contains(so, "distance") || !strings.Contains(so, "peephole") {
		t.Fatalf("no table:\n%s", so)
	}
	// The lesson: far from the loss, an LSTM with an open forget gate keeps
	// orders of magnitude more gradient than a vanilla RNN.
	rnn, err := gradNorms(cells.RNNTanh, 30, 16, 4, 8, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	lstm, err := gradNorms(cells.LSTMKind, 30, 16, 4, 8, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !(lstm[0] > 1000*rnn[0]) {
		t.Errorf("at distance 29: LSTM %g, RNN %g", lstm[0], rnn[0])
	}
	for _, args := range [][]string{{"gradflow", "-cell", "cnn"}, {"gradflow", "-steps", "1"}, {"gradflow", "x"}} {
		if _, _, code := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
