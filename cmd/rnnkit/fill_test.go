package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
)

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		return []cliCommand{{
			name: "train mlm",
			base: []string{"train", "-preset", "mlm", "-data", fx.corpus, "-valid", fx.corpus, "-epochs", "1", "-embed", "8", "-heads", "2",
				"-ff", "8", "-layers", "1", "-batch", "4", "-max-len", "8", "-min-count", "1", "-log-every", "1000", "-out", "{out}"},
			rows: []cliRow{
				{flag: "data", value: "(absent)", code: 2, want: "needs -data"},
				{flag: "heads", value: "3", code: 2, want: "not divisible"},
				{flag: "mask-rate", value: "0", code: 2},
				{flag: "mask-rate", value: "NaN", code: 2},
				{flag: "max-len", value: "0", code: 2},
				{flag: "bucket", value: "0", code: 2},
				{flag: "max-vocab", value: "-1", code: 2},
				{flag: "valid", value: "{missing}", code: 1},
				{flag: "valid", value: "", code: 2},
				{flag: "min-count", value: "1000", code: 1, want: "no word occurs -min-count 1000 times"},
				{flag: "activation", value: "gelu", code: 0},
			},
		}, {
			name: "fill",
			base: []string{"fill", "-checkpoint", fx.lm, "the [MASK] sat"},
			flags: []flagSpec{
				{"checkpoint", "in", "211", ""}, {"k", "int", "22222", ""}, {"json", "bool", "22", ""},
			},
			rows: []cliRow{
				{value: "the cat sat", code: 2, want: "holds no [MASK]"},
				{value: " ", code: 2, want: "empty query"},
				{flag: "checkpoint", value: fx.lm, code: 1, want: "not a masked language model"},
			},
		}}
	})
}

// countingText is lines of consecutive number words ("wc wd we …"): each
// word follows from its neighbours.
func countingText(n int) string {
	src := graph.NewSource(4)
	var b strings.Builder
	for range n {
		start, l := src.IntN(16), 3+src.IntN(6)
		for k := range l {
			if k > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("w" + string(rune('a'+start+k)))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// mlm trains on a text file; its checkpoint fills [MASK]s (text and JSON,
// unknown words listed), refuses a query longer than it reads, and
// evaluates with the masked metrics.
func TestFillCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains a model")
	}
	dir := t.TempDir()
	corpus := filepath.Join(dir, "counting.txt")
	if err := os.WriteFile(corpus, []byte(countingText(600)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	so, se, code := runCmd(t, "train", "-preset", "mlm", "-data", corpus, "-epochs", "3", "-embed", "16", "-heads", "2", "-ff", "32",
		"-layers", "1", "-batch", "16", "-max-len", "8", "-min-count", "1", "-lr", "0.005", "-log-every", "1000", "-out", out)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, so, se)
	}
	for _, want := range []string{"masked accuracy", "masked perplexity", "the middle word masked"} {
		if !strings.Contains(so, want) {
			t.Errorf("train's output lacks %q:\n%s", want, so)
		}
	}
	ckpt := filepath.Join(out, "best.safetensors")
	so, se, code = runCmd(t, "fill", "-checkpoint", ckpt, "-k", "3", "wc wd [MASK] wf wg", "wa [MASK] zzz")
	if code != 0 {
		t.Fatalf("fill: exit %d\n%s%s", code, so, se)
	}
	t.Logf("fill:\n%s", so)
	if strings.Count(so, "[MASK] at word") != 2 || !strings.Contains(so, "read as <unk>: zzz") || strings.Count(so, "→") != 2 {
		t.Errorf("fill's output:\n%s", so)
	}
	so, se, code = runCmd(t, "fill", "-checkpoint", ckpt, "-json", "-k", "2", "wc [MASK] we [MASK]")
	var res []fillResult
	if code != 0 || json.Unmarshal([]byte(so), &res) != nil || len(res) != 1 || len(res[0].Masks) != 2 || len(res[0].Masks[1].Fillers) != 2 {
		t.Fatalf("fill -json: exit %d, %q\n%s", code, so, se)
	}
	if m := res[0].Masks; m[0].Position != 1 || m[1].Position != 3 || !(m[0].Fillers[0].P >= m[0].Fillers[1].P) {
		t.Errorf("fill -json: %+v", m)
	}
	if _, se, code := runCmd(t, "fill", "-checkpoint", ckpt, "wa wb wc wd we wf wg wh [MASK]"); code != 1 || !strings.Contains(se, "at most 8") {
		t.Errorf("a query of 9 words for a model of 8: exit %d, %s", code, se)
	}
	so, se, code = runCmd(t, "eval", "-checkpoint", ckpt, "-data", corpus, "-json")
	if code != 0 || !strings.Contains(so, "masked_accuracy") || !strings.Contains(so, "masked_perplexity") {
		t.Errorf("eval: exit %d\n%s%s", code, so, se)
	}
}
