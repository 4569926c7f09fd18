package main

import (
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
