package parity

import (
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/internal/fixture"
)

// The public fixtures, and the ones scripts/make_fixtures.py generated with
// PyTorch for other shapes (T = 1, B = 1, I ≠ H, H = 1, three layers, two
// bidirectional layers, every cell kind).
func TestFixtures(t *testing.T) {
	var files []string
	for _, dir := range []string{"fixtures", "generated"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "testdata", dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 19 {
		t.Fatalf("found %d fixture files, want at least 19", len(files))
	}
	for _, path := range files {
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			f, err := fixture.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, fused := range []bool{false, true} {
				res, err := RunWith(f, Options{Fused: fused})
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range res.Diffs {
					t.Logf("fused=%v %-24s %.3g", fused, d.Name, d.MaxAbs)
				}
				if len(res.Diffs) < 6 {
					t.Fatalf("fused=%v: only %d tensors compared", fused, len(res.Diffs))
				}
				if !res.Pass(Tolerance) {
					t.Errorf("fused=%v: output error %.3g, gradient error %.3g, want ≤ %g", fused, res.OutErr, res.GradErr, Tolerance)
				}
			}
		})
	}
}

// A fixture whose parameters do not fit its dims is an error, not a panic.
func TestInconsistentFixture(t *testing.T) {
	f, err := fixture.Read(filepath.Join("..", "..", "testdata", "fixtures", "lstm.json"))
	if err != nil {
		t.Fatal(err)
	}
	f.Dims["H"] = 5
	if _, err := Run(f); err == nil {
		t.Error("H = 5 against H = 4 parameters: no error")
	}
	f.Dims["H"] = 4
	f.Case = "gru"
	if _, err := Run(f); err == nil {
		t.Error("LSTM parameters as a GRU: no error")
	}
	f.Case = "lstm"
	delete(f.Inputs, "c0")
	if _, err := Run(f); err == nil {
		t.Error("missing c0: no error")
	}
}
