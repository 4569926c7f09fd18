package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		tiny := []string{"-epochs", "1", "-hidden", "4", "-embed", "4", "-log-every", "1000", "-out", "{out}"}
		return []cliCommand{
			{name: "distill charlm", base: append([]string{"distill", "-teacher", fx.lm, "-preset", "charlm", "-data", fx.corpus, "-batch", "2", "-bptt", "8"}, tiny...),
				flags: []flagSpec{{"teacher", "in", "211", ""}, {"alpha", "float", "a22222", ""}, {"temperature", "float", "222222", ""},
					{"sequence-level", "bool", "22", ""}, {"beam", "int", "22222", ""}},
				rows: []cliRow{
					{flag: "sequence-level", value: "=true", code: 2, want: "applies to Seq2Seq presets"},
					{flag: "resume", value: "=true", code: 1, want: "-resume"},
					{flag: "teacher", value: fx.s2s, code: 1, want: "a lm student cannot learn from a seq2seq teacher"},
					{flag: "alpha", value: "1", code: 0},
				}},
			{name: "distill addition", base: append([]string{"distill", "-teacher", fx.s2s, "-preset", "addition", "-examples", "160", "-batch", "32"}, tiny...),
				rows: []cliRow{
					{flag: "data", value: fx.dates, code: 1, want: "vocabulary", args: []string{"examples"}},
				}},
		}
	})
}

// rnnkit distill trains a smaller student from a teacher checkpoint,
// word-level and sequence-level, and its checkpoint is an ordinary one.
func TestDistillCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("trains small models")
	}
	dir := t.TempDir()
	teacher := filepath.Join(dir, "teacher")
	if so, se, code := runCmd(t, tinyArgs(teacher, "-hidden", "16")...); code != 0 {
		t.Fatalf("teacher: exit %d\n%s%s", code, so, se)
	}
	student := filepath.Join(dir, "student")
	so, se, code := runCmd(t, "distill", "-teacher", filepath.Join(teacher, "best.safetensors"), "-preset", "addition", "-examples", "160",
		"-epochs", "1", "-hidden", "4", "-embed", "4", "-batch", "32", "-sequence-level", "-beam", "2", "-alpha", "0.7", "-out", student, "-log-every", "1000")
	if code != 0 {
		t.Fatalf("distill: exit %d\n%s%s", code, so, se)
	}
	for _, want := range []string{"sequence-level: the teacher's beam-2 answers replace", "distilling from", "alpha 0.7, temperature 2", "epoch 1:"} {
		if !strings.Contains(so, want) {
			t.Errorf("distill output lacks %q:\n%s", want, so)
		}
	}
	args := []string{"distill", "-teacher", filepath.Join(teacher, "best.safetensors"), "-preset", "addition", "-examples", "160",
		"-epochs", "2", "-hidden", "4", "-embed", "4", "-batch", "32", "-sequence-level", "-beam", "2", "-out", student, "-log-every", "1000", "-resume"}
	if so, se, code := runCmd(t, append(args, "-alpha", "0.3")...); code != 1 || !strings.Contains(se, "another distillation") {
		t.Errorf("resume with another alpha: exit %d\n%s%s", code, so, se)
	}
	if so, se, code := runCmd(t, append(args, "-alpha", "0.7")...); code != 0 || !strings.Contains(so, "epoch 2:") {
		t.Errorf("resume: exit %d\n%s%s", code, so, se)
	}
	if so, se, code := runCmd(t, "translate", "-checkpoint", filepath.Join(student, "best.safetensors")); code != 0 {
		t.Fatalf("translate with the student: exit %d\n%s%s", code, so, se)
	}
}
