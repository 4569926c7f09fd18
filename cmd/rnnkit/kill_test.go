package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// TestMain lets a test run the command in a child process: the test binary
// re-executes itself with RNNKIT_CHILD_ARGS set.
func TestMain(m *testing.M) {
	if args := os.Getenv("RNNKIT_CHILD_ARGS"); args != "" {
		err := run(context.Background(), strings.Split(args, "\x1f"), os.Stdout, os.Stderr)
		os.Exit(exitCode(err))
	}
	os.Exit(m.Run())
}

func finalParams(t *testing.T, dir string) (*graph.Params, int) {
	t.Helper()
	c, _, err := (&checkpoint.Manager{Dir: dir, KeepLast: 100}).Latest()
	if err != nil {
		t.Fatal(err)
	}
	return c.Params, c.Meta.Step
}

// A training process killed with SIGKILL mid-epoch and resumed from its
// newest checkpoint ends with the same parameters, bit for bit, as a run
// never stopped.
func TestKilledRunResumesBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three small models")
	}
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"train", "-preset", "addition-peeky", "-examples", "800", "-epochs", "2", "-hidden", "16",
			"-embed", "8", "-batch", "32", "-out", out, "-checkpoint-every", "2", "-keep", "50", "-log-every", "1000"}
	}
	whole := filepath.Join(dir, "whole")
	if so, se, code := runCmd(t, args(whole)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s%s", code, so, se)
	}
	want, wantStep := finalParams(t, whole)

	killed := filepath.Join(dir, "killed")
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "RNNKIT_CHILD_ARGS="+strings.Join(args(killed), "\x1f"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once it has written a checkpoint in the first epoch and moved on.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		m, _ := filepath.Glob(filepath.Join(killed, "ckpt-*.safetensors"))
		if len(m) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint written in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	_, stepAtKill := finalParams(t, killed)
	if stepAtKill >= wantStep {
		t.Fatalf("the child finished (step %d of %d) before it was killed", stepAtKill, wantStep)
	}
	if so, se, code := runCmd(t, append(args(killed), "-resume")...); code != 0 {
		t.Fatalf("resumed run: exit %d\n%s%s", code, so, se)
	}
	got, gotStep := finalParams(t, killed)
	if gotStep != wantStep {
		t.Fatalf("resumed run ended at step %d, uninterrupted at %d", gotStep, wantStep)
	}
	for _, n := range want.Names() {
		a, _ := want.Get(n)
		b, ok := got.Get(n)
		if !ok {
			t.Fatalf("resumed run lacks %s", n)
		}
		av, _ := graph.Float64s(a)
		bv, _ := graph.Float64s(b)
		for i := range av {
			if math.Float64bits(av[i]) != math.Float64bits(bv[i]) {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v (killed at step %d)", n, i, bv[i], av[i], stepAtKill)
			}
		}
	}
	t.Logf("killed at step %d of %d; resumed run identical", stepAtKill, wantStep)
}
