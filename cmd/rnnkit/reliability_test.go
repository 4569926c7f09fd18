package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// runChild runs the command in a child process (the test binary, see
// TestMain) with stdin, and returns its stdout, stderr and exit status.
func runChild(t *testing.T, stdinText string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "RNNKIT_CHILD_ARGS="+strings.Join(args, "\x1f"))
	cmd.Stdin = strings.NewReader(stdinText)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return so.String(), se.String(), code
}

// noCrash fails the test when stderr holds a panic or a goroutine dump.
func noCrash(t *testing.T, what, stderr string) {
	t.Helper()
	for _, s := range []string{"panic:", "goroutine ", "runtime error", "[signal"} {
		if strings.Contains(stderr, s) {
			t.Errorf("%s: stderr holds %q:\n%s", what, s, stderr)
		}
	}
}

// dirState is every file of a directory and its subdirectories: name →
// SHA-256 and modification time.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			for k, v := range dirState(t, p) {
				out[e.Name()+"/"+k] = v
			}
			out[e.Name()+"/"] = "a directory"
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		out[e.Name()] = fmt.Sprintf("%x %d", sha256.Sum256(b), fi.ModTime().UnixNano())
	}
	return out
}

func sameDir(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range before {
		if after[k] != v {
			diffs = append(diffs, k+" changed or removed")
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diffs = append(diffs, k+" added")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s touched the run directory: %s", what, strings.Join(diffs, ", "))
	}
}

// tinyArgs is a seq2seq run of a few seconds on generated data.
func tinyArgs(out string, extra ...string) []string {
	return append([]string{"train", "-preset", "addition", "-examples", "160", "-epochs", "1", "-hidden", "8", "-embed", "4",
		"-batch", "32", "-out", out, "-log-every", "1000"}, extra...)
}

// tinyDataArgs is a seq2seq run of a few seconds on a data file.
func tinyDataArgs(out, data string, extra ...string) []string {
	return append([]string{"train", "-preset", "addition", "-data", data, "-epochs", "1", "-hidden", "8", "-embed", "4",
		"-batch", "32", "-out", out, "-log-every", "1000"}, extra...)
}

// tinyLMArgs is a language-model run of a few seconds on a text file.
func tinyLMArgs(out, text string, extra ...string) []string {
	return append([]string{"train", "-preset", "charlm", "-data", text, "-epochs", "1", "-hidden", "8", "-embed", "4",
		"-batch", "2", "-out", out, "-log-every", "1000"}, extra...)
}

// A learning rate that explodes in the second epoch: the update overflows,
// training stops with exit status 1 and a message that names the last good
// checkpoint, which is left as it was; resuming fails the same way (even
// with -skip-nonfinite: a damaged update cannot be skipped) and touches
// nothing.
func TestTrainStopsOnNonFinite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	args := tinyArgs(out, "-epochs", "3", "-optimizer", "sgd", "-lr", "0.1", "-lr-step", "1", "-lr-gamma", "1e42", "-checkpoint-every", "2", "-keep", "50")
	so, se, code := runChild(t, "", args...)
	t.Logf("exploding run, stderr:\n%s", se)
	noCrash(t, "exploding run", se)
	if code != 1 || !strings.Contains(se, "non-finite") || !strings.Contains(se, "training stopped") || !strings.Contains(se, "epoch 2, batch 1") {
		t.Fatalf("exploding run: exit %d, want 1 with a clear message\n%s%s", code, so, se)
	}
	c, path, err := (&checkpoint.Manager{Dir: out}).Latest()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(se, filepath.Base(path)) || c.Meta.Epoch != 1 || c.Meta.Extra["step_in_epoch"] != "0" {
		t.Fatalf("newest checkpoint %s (epoch %d, batch %s); the message does not name it or it is not the end of epoch 1:\n%s",
			path, c.Meta.Epoch, c.Meta.Extra["step_in_epoch"], se)
	}
	if ok, name := c.Params.AllFinite(); !ok {
		t.Fatalf("the newest checkpoint holds a non-finite %s", name)
	}
	before := dirState(t, out)
	for _, extra := range [][]string{{"-resume"}, {"-resume", "-skip-nonfinite"}} {
		_, se, code := runChild(t, "", append(args, extra...)...)
		noCrash(t, "resumed exploding run", se)
		if code != 1 || !strings.Contains(se, "training stopped") {
			t.Errorf("%v: exit %d, want 1\n%s", extra, code, se)
		}
		sameDir(t, fmt.Sprint(extra), before, dirState(t, out))
	}
}

// Failing invocations on an existing run touch none of its files: a resume
// whose checkpoints are all damaged, a resume with another config, a fresh
// start over it without -overwrite.
func TestFailuresTouchNoSavedFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	if so, se, code := runCmd(t, tinyArgs(out, "-checkpoint-every", "2", "-keep", "2")...); code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, so, se)
	}
	before := dirState(t, out)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{tinyArgs(out, "-hidden", "9", "-resume"), 1, "another config"},
		{tinyArgs(out), 1, "-overwrite"},
		{tinyArgs(out, "-resume", "-overwrite"), 2, "exclude"},
		{tinyLMArgs(out, filepath.Join(dir, "missing.txt")), 1, "already holds the checkpoints"},
		{tinyLMArgs(out, filepath.Join(dir, "missing.txt"), "-resume"), 1, "no such file"},
		{tinyArgs(out, "-preset", "charlm", "-data", filepath.Join(dir, "missing.txt")), 2, "-examples does not apply to the charlm preset"},
	} {
		_, se, code := runChild(t, "", c.args...)
		noCrash(t, fmt.Sprint(c.args), se)
		if code != c.code || !strings.Contains(se, c.want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s", c.args, code, c.code, c.want, se)
		}
		sameDir(t, fmt.Sprint(c.args), before, dirState(t, out))
	}
	// Every step checkpoint damaged: -resume fails, says why for each, and
	// leaves them all as they are.
	files, _ := filepath.Glob(filepath.Join(out, "ckpt-*.safetensors"))
	if len(files) != 2 {
		t.Fatalf("checkpoints %v, want 2", files)
	}
	for _, f := range files {
		flipByte(t, f, -5)
	}
	before = dirState(t, out)
	_, se, code := runChild(t, "", tinyArgs(out, "-resume")...)
	noCrash(t, "resume with every checkpoint damaged", se)
	if code != 1 || !strings.Contains(se, "skipping") || !strings.Contains(se, "checksum") {
		t.Errorf("resume with every checkpoint damaged: exit %d\n%s", code, se)
	}
	sameDir(t, "resume with every checkpoint damaged", before, dirState(t, out))
	// Only the newest damaged: -resume goes back to the one before and
	// says so.
	flipByte(t, files[0], -5)
	so, se, code := runCmd(t, tinyArgs(out, "-resume")...)
	if code != 0 || !strings.Contains(se, "skipping "+files[1]) || !strings.Contains(so, "resumed from "+files[0]) {
		t.Errorf("resume with the newest checkpoint damaged: exit %d\n%s%s", code, so, se)
	}
}

// flipByte flips one bit of a file's byte at offset (from the end when
// negative).
func flipByte(t *testing.T, path string, offset int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if offset < 0 {
		offset += len(b)
	}
	b[offset] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Bad input to every command: the exit status is 2 for a usage error and 1
// for anything else, the message says what and where, and nothing panics.
func TestBadInputExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A trained seq2seq checkpoint and a language model one.
	s2s := filepath.Join(dir, "s2s")
	if so, se, code := runCmd(t, tinyArgs(s2s)...); code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, so, se)
	}
	good := filepath.Join(s2s, checkpoint.BestName)
	corpus := write("corpus.txt", strings.Repeat("to be or not to be. ", 60))
	lmDir := filepath.Join(dir, "lm")
	if so, se, code := runCmd(t, tinyLMArgs(lmDir, corpus)...); code != 0 {
		t.Fatalf("train charlm: exit %d\n%s%s", code, so, se)
	}
	lmCkpt := filepath.Join(lmDir, checkpoint.BestName)
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damaged := func(name string, edit func([]byte) []byte) string {
		return write(name, string(edit(bytes.Clone(raw))))
	}
	truncated := damaged("truncated.safetensors", func(b []byte) []byte { return b[:len(b)/2] })
	flipped := damaged("flipped.safetensors", func(b []byte) []byte { b[len(b)-9] ^= 0x40; return b })
	hugeHeader := damaged("huge.safetensors", func(b []byte) []byte { binary.LittleEndian.PutUint64(b, 1<<40); return b })
	empty := write("empty.safetensors", "")
	notCkpt := write("text.safetensors", "hello, world\n")
	emptyData := write("empty.txt", "")
	noSep := write("nosep.txt", "16+75  _91\nno separator here\n")
	latin1 := write("latin1.txt", "16+75 _91\ncaf\xe9_1\n")
	latin1Corpus := write("latin1-corpus.txt", "caf\xe9 au lait\n")
	dates := write("dates.txt", "september 27, 1994_1994-09-27\n")

	for _, c := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"unknown command", []string{"frobnicate"}, "", 2, `unknown command "frobnicate"`},
		{"unknown preset", []string{"train", "-preset", "transformer"}, "", 2, `unknown preset "transformer"`},
		{"unknown flag", []string{"train", "-preset", "addition", "-nosuch", "1"}, "", 2, "-nosuch"},
		{"bad flag value", []string{"train", "-preset", "addition", "-hidden", "many"}, "", 2, "-hidden"},
		{"unknown cell", []string{"train", "-preset", "addition", "-cell", "cnn"}, "", 2, "cnn"},
		{"unknown optimizer", []string{"train", "-preset", "addition", "-optimizer", "lion"}, "", 2, "lion"},
		{"unknown dtype", []string{"train", "-preset", "addition", "-dtype", "float16"}, "", 2, "float16"},
		{"NaN learning rate", []string{"train", "-preset", "addition", "-lr", "NaN"}, "", 2, "learning rate"},
		{"sample flags", []string{"sample", "-checkpoint", lmCkpt, "-topp", "2"}, "", 2, "-topp"},
		{"translate flags", []string{"translate", "-checkpoint", good, "-beam", "2", "-temperature", "1"}, "", 2, "exclude"},
		{"empty data file", tinyDataArgs(filepath.Join(dir, "r1"), emptyData), "", 1, emptyData},
		{"line without _", tinyDataArgs(filepath.Join(dir, "r2"), noSep), "", 1, "line 2"},
		{"non-UTF-8 pairs", tinyDataArgs(filepath.Join(dir, "r3"), latin1), "", 1, "UTF-8"},
		{"non-UTF-8 corpus", []string{"train", "-preset", "charlm", "-data", latin1Corpus, "-out", filepath.Join(dir, "r4")}, "", 1, "UTF-8"},
		{"empty corpus", []string{"train", "-preset", "charlm", "-data", emptyData, "-out", filepath.Join(dir, "r5")}, "", 1, emptyData},
		{"corpus too short", []string{"train", "-preset", "charlm", "-data", dates, "-out", filepath.Join(dir, "r6")}, "", 1, dates + ": training: training corpus"},
		{"eval: line without _", []string{"eval", "-checkpoint", good, "-data", noSep}, "", 1, "line 2"},
		{"eval: empty file", []string{"eval", "-checkpoint", good, "-data", emptyData}, "", 1, emptyData},
		{"truncated checkpoint", []string{"translate", "-checkpoint", truncated}, "x\n", 1, truncated},
		{"bit-flipped checkpoint", []string{"eval", "-checkpoint", flipped, "-data", dates}, "", 1, "checksum"},
		{"oversized header", []string{"translate", "-checkpoint", hugeHeader}, "", 1, "header"},
		{"empty checkpoint", []string{"translate", "-checkpoint", empty}, "", 1, empty},
		{"not a checkpoint", []string{"sample", "-checkpoint", notCkpt}, "", 1, notCkpt},
		{"missing checkpoint", []string{"translate", "-checkpoint", filepath.Join(dir, "nope.safetensors")}, "", 1, "no such file"},
		{"LM checkpoint to translate", []string{"translate", "-checkpoint", lmCkpt}, "x\n", 1, `"lm"`},
		{"seq2seq checkpoint to sample", []string{"sample", "-checkpoint", good}, "", 1, "seq2seq"},
		{"non-UTF-8 question", []string{"translate", "-checkpoint", good}, "1+\xff\n", 0, ""},
		{"unknown characters", []string{"translate", "-checkpoint", good}, "été\n\n", 0, ""},
		{"prime of unknown characters", []string{"sample", "-checkpoint", lmCkpt, "-prime", "été", "-length", "5"}, "", 0, ""},
	} {
		so, se, code := runChild(t, c.stdin, c.args...)
		noCrash(t, c.name, se)
		if code != c.code || !strings.Contains(se, c.want) {
			t.Errorf("%s: exit %d, want %d with %q in stderr\nstdout: %s\nstderr: %s", c.name, code, c.code, c.want, so, se)
		}
	}
}
