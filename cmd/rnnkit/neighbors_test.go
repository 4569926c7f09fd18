package main

import (
	"strings"
	"testing"
)

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		return []cliCommand{{
			name:  "neighbors",
			base:  []string{"neighbors", "-vectors", w2vFile("vectors.txt"), "king"},
			flags: []flagSpec{{"vectors", "in", "211", ""}, {"n", "int", "22222", ""}, {"json", "bool", "22", ""}},
			rows: []cliRow{
				{value: "atlantis", code: 1, want: "unknown word"},
				{value: "", code: 1, want: "unknown word"},
				{flag: "vectors", value: "{file}", code: 1, want: "bad vector file"},
			},
		}}
	})
}

// neighbors lists the nearest words, most similar first.
func TestNeighborsCommand(t *testing.T) {
	so, se, code := runCmd(t, "neighbors", "-vectors", w2vFile("vectors.txt"), "-n", "2", "king", "paris")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	if !strings.HasPrefix(so, "king:\n  walk ") || !strings.Contains(so, "\n  queen ") || !strings.Contains(so, "paris:\n") {
		t.Errorf("%q", so)
	}
	if _, _, code := runCmd(t, "neighbors", "-vectors", w2vFile("vectors.txt")); code != 2 {
		t.Errorf("no WORD: exit %d, want 2", code)
	}
}
