package main

import (
	"encoding/json"
	"testing"
)

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		return []cliCommand{{
			name:  "similarity",
			base:  []string{"similarity", "-vectors", w2vFile("vectors.txt"), "-pairs", w2vFile("pairs.txt")},
			flags: []flagSpec{{"vectors", "in", "211", ""}, {"pairs", "in", "211", ""}, {"json", "bool", "22", ""}},
			rows: []cliRow{
				{flag: "vectors", value: "{file}", code: 1, want: "bad vector file"},
				{flag: "pairs", value: w2vFile("bad-pairs.txt"), code: 1, want: "line 1"},
			},
		}}
	})
}

// similarity -json gives ρ and the pairs skipped for unknown words.
func TestSimilarityCommand(t *testing.T) {
	so, se, code := runCmd(t, "similarity", "-vectors", w2vFile("vectors.txt"), "-pairs", w2vFile("pairs.txt"), "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	var out struct {
		Spearman             float64
		Pairs, Used, Skipped int
	}
	if err := json.Unmarshal([]byte(so), &out); err != nil {
		t.Fatal(err)
	}
	if out.Pairs != 4 || out.Used != 3 || out.Skipped != 1 || out.Spearman != 1 {
		t.Errorf("%s", so)
	}
}
