package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
)

func fixtures(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, filepath.Join("..", "..", "testdata", "fixtures", n+".json"))
	}
	return out
}

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	if err != nil && err.Error() != "" {
		stderr.WriteString("rnnkit: " + err.Error() + "\n")
	}
	return stdout.String(), stderr.String(), exitCode(err)
}

func TestParityPassesOnPublicFixtures(t *testing.T) {
	names := []string{"rnn_tanh", "lstm", "gru", "peephole_lstm", "lstm_2layer", "bilstm", "seq2seq"}
	out, errOut, code := runCmd(t, append([]string{"parity"}, fixtures(names...)...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, n := range names {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) == 5 && f[0] == n {
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

func TestParityFailsWhenTheFixtureDisagrees(t *testing.T) {
	// Change one gradient value in a copy of a fixture: exit status 1, FAIL.
	b, err := os.ReadFile(fixtures("gru")[0])
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, `"grads"`)
	j := i + strings.Index(s[i:], `"data": [`) + len(`"data": [`)
	bad := s[:j] + "12345.0, " + s[j+strings.Index(s[j:], ",")+2:]
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, "parity", path)
	if code != 1 || !strings.Contains(out, "FAIL") {
		t.Fatalf("exit %d, want 1 with FAIL\n%s%s", code, out, errOut)
	}
}

func TestParityUnreadableOrUnknown(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("{not json"), 0o644)
	unknown := filepath.Join(dir, "unknown.json")
	os.WriteFile(unknown, []byte(`{"case": "transformer", "dims": {"T": 1}}`), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"parity", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"parity", garbage}, "json"},
		{[]string{"parity", unknown}, "unknown case"},
		{append([]string{"parity"}, append(fixtures("lstm"), unknown)...), "unknown case"},
	} {
		_, errOut, code := runCmd(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"frobnicate"}, 2},
		{[]string{"parity"}, 2},
		{[]string{"parity", "-tol", "-1", "x.json"}, 2},
		{[]string{"parity", "-nosuchflag"}, 2},
		{[]string{"recall", "-cell", "lstmx"}, 2},
		{[]string{"recall", "-steps", "3", "-delay", "3"}, 2},
		{[]string{"recall", "extra"}, 2},
		{[]string{"demo", "extra"}, 2},
		{[]string{"demo", "-epochs", "0"}, 2},
		{[]string{"help"}, 0},
		{[]string{"parity", "-h"}, 0},
		{[]string{"demo", "-h"}, 0},
		{[]string{"recall", "-h"}, 0},
	} {
		_, _, code := runCmd(t, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d", c.args, code, c.code)
		}
	}
}

// A short demo run must learn: the loss falls well below chance.
func TestDemoLearns(t *testing.T) {
	iters := 300
	if testing.Short() {
		iters = 150
	}
	c := demoConfig{Cell: cells.LSTMKind, Vocab: 4, Delay: 2, Steps: 6, Batch: 16, Hidden: 16,
		Iters: iters, LR: 0.02, Clip: 5, Seed: 3, Every: 50}
	var out bytes.Buffer
	res, err := trainDemo(context.Background(), c, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Iters != iters {
		t.Fatalf("ran %d iterations, want %d", res.Iters, iters)
	}
	if !(res.LastLoss < 0.5*res.FirstLoss) || res.Accuracy < 0.6 {
		t.Fatalf("did not learn: loss %.3f → %.3f, accuracy %.2f\n%s", res.FirstLoss, res.LastLoss, res.Accuracy, out.String())
	}
	// The same seed gives the same run.
	var again bytes.Buffer
	res2, err := trainDemo(context.Background(), c, &again)
	if err != nil {
		t.Fatal(err)
	}
	if res2.LastLoss != res.LastLoss {
		t.Fatalf("same seed, different loss: %v vs %v", res.LastLoss, res2.LastLoss)
	}
}

func TestProgressPlainLines(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, 2)
	for s := 1; s <= 5; s++ {
		p.step(1, s, 5, 0.5)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || strings.Contains(b.String(), "\r") {
		t.Fatalf("plain output %q: want 3 lines (steps 2, 4, 5) and no carriage return", b.String())
	}
}
