package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		return []cliCommand{{
			name: "analogy",
			base: []string{"analogy", "-vectors", w2vFile("vectors.txt"), "-questions", w2vFile("questions.txt")},
			flags: []flagSpec{
				{"vectors", "in", "211", ""}, {"questions", "in", "211", ""}, {"restrict", "int", "02222", ""}, {"json", "bool", "22", ""},
			},
			rows: []cliRow{
				{flag: "vectors", value: "{file}", code: 1, want: "bad vector file"},
				{flag: "questions", value: w2vFile("bad-questions.txt"), code: 1, want: "line 1"},
			},
		}}
	})
}

// analogy -json prints compute-accuracy's counts as one object.
func TestAnalogyCommand(t *testing.T) {
	so, se, code := runCmd(t, "analogy", "-vectors", w2vFile("vectors.txt"), "-questions", w2vFile("questions.txt"), "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	var out struct {
		Accuracy, Semantic, Syntactic float64
		Seen, Total                   int
		Sections                      map[string]struct{ Correct, Seen, Total int }
	}
	if err := json.Unmarshal([]byte(so), &out); err != nil {
		t.Fatal(err)
	}
	if out.Accuracy != 1 || out.Seen != 2 || out.Total != 3 || out.Sections["family"].Total != 2 || out.Sections["family"].Seen != 1 {
		t.Errorf("%s", so)
	}
	so, _, code = runCmd(t, "analogy", "-vectors", w2vFile("vectors.txt"), "-questions", w2vFile("questions.txt"))
	if code != 0 || !strings.Contains(so, "Questions seen / total: 2 3") {
		t.Errorf("text output: %q", so)
	}
}
