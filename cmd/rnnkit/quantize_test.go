package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// int8Fixtures quantizes the table's language model and Seq2Seq model
// into dir (next to the table's fixture directory, so that the table's
// check that its rows leave that directory as it was still holds).
func int8Fixtures(fx fixtureFiles) (lm8, s2s8 string, err error) {
	dir := filepath.Join(filepath.Dir(fx.dir), "int8-fixtures")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	lm8, s2s8 = filepath.Join(dir, "lm8.safetensors"), filepath.Join(dir, "s2s8.safetensors")
	for _, p := range [][2]string{{fx.lm, lm8}, {fx.s2s, s2s8}} {
		if _, err := os.Stat(p[1]); err == nil {
			continue
		}
		if err := run(context.Background(), []string{"quantize", "-checkpoint", p[0], "-out", p[1]}, discard{}, discard{}); err != nil {
			return "", "", err
		}
	}
	return lm8, s2s8, nil
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		lm8, s2s8, err := int8Fixtures(fx)
		if err != nil {
			return []cliCommand{{name: fmt.Sprintf("int8 fixtures: %v", err), base: []string{"int8-fixtures"}, rows: []cliRow{{flag: "x", value: "y"}}}}
		}
		return []cliCommand{
			{name: "quantize", base: []string{"quantize", "-checkpoint", fx.lm, "-out", "{out}.safetensors", "-data", fx.corpus},
				flags: []flagSpec{{"checkpoint", "in", "211", ""}, {"out", "outfile", "2111", ""}, {"data", "in", "a11", ""}, {"json", "bool", "22", ""}},
				rows: []cliRow{
					{flag: "checkpoint", value: lm8, code: 1, want: "is already an int8 checkpoint"},
					{flag: "checkpoint", value: fx.corpus, code: 1, want: "-checkpoint"},
					{flag: "out", value: fx.lm, code: 2, want: "-out is the -checkpoint file"},
				}},
			{name: "eval int8", base: []string{"eval", "-checkpoint", lm8, "-data", fx.corpus},
				rows: []cliRow{
					{flag: "data", value: "{missing}", code: 1, want: "-data"},
					{flag: "checkpoint", value: s2s8, code: 1, want: "corpus.txt"},
				}},
		}
	})
}

// quantize → eval: the int8 language model's perplexity from eval is the
// one quantize printed, within 1% of the float model's; an int8 Seq2Seq
// checkpoint evaluates and translates; nothing is written on an error.
func TestQuantizeThenEval(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two small models")
	}
	fx := makeFixtures(t)
	dir := t.TempDir()
	lm8 := filepath.Join(dir, "lm8.safetensors")
	so, se, code := runCmd(t, "quantize", "-checkpoint", fx.lm, "-out", lm8, "-data", fx.corpus, "-json")
	if code != 0 {
		t.Fatalf("quantize: exit %d\n%s%s", code, so, se)
	}
	var q quantizeResult
	if err := json.Unmarshal([]byte(so), &q); err != nil {
		t.Fatal(err)
	}
	if q.Matrices != 4 || q.Int8Bytes == 0 { // the tiny model is mostly header: the size is checked in package quantize
		t.Errorf("quantize result %+v", q)
	}
	pf, p8 := q.Before["perplexity"], q.After["perplexity"]
	if !(math.Abs(p8-pf) <= 0.01*pf) || !strings.Contains(q.Engine, "int8 engine") {
		t.Errorf("perplexity float %v, int8 %v (%s)", pf, p8, q.Engine)
	}
	so, se, code = runCmd(t, "eval", "-checkpoint", lm8, "-data", fx.corpus, "-json")
	if code != 0 {
		t.Fatalf("eval int8: exit %d\n%s%s", code, so, se)
	}
	var e evalResult
	if err := json.Unmarshal([]byte(so), &e); err != nil {
		t.Fatal(err)
	}
	if e.Metrics["perplexity"] != p8 {
		t.Errorf("eval of the int8 file: perplexity %v, quantize said %v", e.Metrics["perplexity"], p8)
	}
	// A second quantization of the int8 file is refused and writes nothing.
	again := filepath.Join(dir, "again.safetensors")
	if _, se, code := runCmd(t, "quantize", "-checkpoint", lm8, "-out", again); code != 1 || !strings.Contains(se, "already an int8") {
		t.Errorf("quantizing an int8 file: exit %d, %s", code, se)
	}
	if _, err := os.Stat(again); err == nil {
		t.Error("a refused quantization wrote its -out")
	}
	// Seq2Seq: metrics before and after, and translate reads the file.
	s8 := filepath.Join(dir, "s2s8.safetensors")
	so, se, code = runCmd(t, "quantize", "-checkpoint", fx.s2s, "-out", s8)
	if code != 0 {
		t.Fatalf("quantize seq2seq: exit %d\n%s%s", code, so, se)
	}
	stdin = strings.NewReader("7+8\n")
	defer func() { stdin = os.Stdin }()
	if so, se, code := runCmd(t, "translate", "-checkpoint", s8); code != 0 || so == "" {
		t.Errorf("translate with the int8 checkpoint: exit %d\n%s%s", code, so, se)
	}
}
