package plot

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func isPNG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 1000 {
		t.Fatalf("%s is not a PNG (%d bytes)", path, len(b))
	}
}

func TestLinesAndHeatmap(t *testing.T) {
	dir := t.TempDir()
	loss := filepath.Join(dir, "loss.png")
	err := Lines(loss, "loss", "epoch", "cross-entropy", []Series{
		{Name: "train", X: []float64{1, 2, 3}, Y: []float64{2, 1, 0.5}},
		{Name: "test", X: []float64{1, 2, 3}, Y: []float64{2.1, 1.2, 0.7}},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	isPNG(t, loss)
	hm := filepath.Join(dir, "attention.png")
	err = Heatmap(hm, "attention", [][]float64{{0.9, 0.1, 0}, {0.2, 0.7, 0.1}}, []string{"1", "2"}, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	isPNG(t, hm)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.png")
	if err := Lines(p, "", "", "", nil, false); err == nil {
		t.Error("no series accepted")
	}
	if err := Lines(p, "", "", "", []Series{{X: []float64{1}, Y: []float64{0}}}, true); err == nil {
		t.Error("y = 0 on a log scale accepted")
	}
	if err := Lines(p, "", "", "", []Series{{X: []float64{1}, Y: []float64{math.NaN()}}}, false); err == nil {
		t.Error("NaN accepted")
	}
	if err := Lines(p, "", "", "", []Series{{X: []float64{1, 2}, Y: []float64{1}}}, false); err == nil {
		t.Error("ragged series accepted")
	}
	if err := Heatmap(p, "", nil, nil, nil); err == nil {
		t.Error("empty heatmap accepted")
	}
	if err := Heatmap(p, "", [][]float64{{1, 2}, {1}}, []string{"a", "b"}, []string{"x", "y"}); err == nil {
		t.Error("ragged heatmap accepted")
	}
	if err := Heatmap(p, "", [][]float64{{1}}, []string{"a", "b"}, []string{"x"}); err == nil {
		t.Error("wrong label count accepted")
	}
}
