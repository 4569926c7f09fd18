package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParityTransformerFixtures(t *testing.T) {
	names := []string{"transformer_encoder_layer", "transformer_decoder_layer", "transformer_seq2seq"}
	out, errOut, code := runCmd(t, append([]string{"parity"}, fixtures(names...)...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, n := range names {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 5 && f[0] == n {
				found = true
				if f[4] != "PASS" {
					t.Errorf("%s: %s", n, line)
				}
			}
		}
		if !found {
			t.Errorf("no line for %s in\n%s", n, out)
		}
	}
}

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		bad := func(name string) string { return filepath.Join("..", "..", "testdata", "transformer", name) }
		return []cliCommand{{
			name: "train date-transformer",
			base: []string{"train", "-preset", "date-transformer", "-examples", "40", "-batch", "8", "-epochs", "1",
				"-embed", "8", "-heads", "2", "-ff", "8", "-layers", "1", "-log-every", "1000", "-out", "{out}"},
			rows: []cliRow{
				{flag: "heads", value: "3", code: 2, want: "not divisible"},
				{flag: "heads", value: "0", code: 2},
				{flag: "ff", value: "0", code: 2},
				{flag: "layers", value: "0", code: 2},
				{flag: "activation", value: "tanh", code: 2},
				{flag: "dropout", value: "1", code: 2},
				{flag: "activation", value: "gelu", code: 0},
			},
		}, {
			name: "parity (transformer)",
			base: []string{"parity", bad("heads_not_dividing.json")},
			rows: []cliRow{
				{value: bad("heads_not_dividing.json"), code: 2, want: "not divisible by the 3 heads"},
				{value: bad("bad_mask_shape.json"), code: 2, want: "tgt_mask: shape [2 8], want [4 4]"},
				{value: bad("bad_padding_value.json"), code: 2, want: "key padding mask [0 0] = 0.5"},
			},
		}}
	})
}

// date-transformer trains, writes its heat maps, and its checkpoint
// answers through translate (greedy, beam, sampling) and eval.
func TestTransformerTrainTranslateEval(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains a model")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	so, se, code := runCmd(t, "train", "-preset", "date-transformer", "-examples", "60", "-batch", "8", "-epochs", "1",
		"-embed", "8", "-heads", "2", "-ff", "8", "-layers", "1", "-log-every", "1000", "-out", out)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, so, se)
	}
	for _, f := range []string{"best.safetensors", "attention-layer0-head1.png", "loss.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	ckpt := filepath.Join(out, "best.safetensors")
	defer func() { stdin = os.Stdin }()
	for _, extra := range [][]string{nil, {"-beam", "2"}, {"-temperature", "0.5"}} {
		stdin = strings.NewReader("12/4/2001\nmay 3, 1999\n")
		so, se, code := runCmd(t, append([]string{"translate", "-checkpoint", ckpt, "-maxlen", "12"}, extra...)...)
		if code != 0 || strings.Count(so, "\n") != 2 {
			t.Errorf("translate %v: exit %d, %q\n%s", extra, code, so, se)
		}
	}
	pairs := filepath.Join(dir, "pairs.txt")
	os.WriteFile(pairs, []byte("12/4/2001_2001-12-04\nmay 3, 1999_1999-05-03\n"), 0o644)
	if so, se, code := runCmd(t, "eval", "-checkpoint", ckpt, "-data", pairs, "-json"); code != 0 || !strings.Contains(so, "exact_match") {
		t.Errorf("eval: exit %d\n%s%s", code, so, se)
	}
}

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		return []cliCommand{{
			name: "train date-transformer -definition",
			base: []string{"train", "-preset", "date-transformer", "-examples", "20", "-batch", "8", "-epochs", "1",
				"-embed", "4", "-heads", "1", "-ff", "4", "-layers", "1", "-log-every", "1000", "-out", "{out}"},
			rows: []cliRow{{flag: "definition", value: "=true", code: 0}},
		}}
	})
}
