package main

import (
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
