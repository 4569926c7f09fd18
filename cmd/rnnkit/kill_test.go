package main

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// TestMain lets a test run the command in a child process: the test binary
// re-executes itself with RNNKIT_CHILD_ARGS set and runs main's code.
func TestMain(m *testing.M) {
	if args := os.Getenv("RNNKIT_CHILD_ARGS"); args != "" {
		os.Exit(realMain(strings.Split(args, "\x1f"), os.Stdout, os.Stderr)) // as main does
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

// killTrials is the number of kills TestKilledRunResumesBitIdentical
// makes: RNNKIT_KILLS, or 3 (0 under -short).
func killTrials(t *testing.T) int {
	if v := os.Getenv("RNNKIT_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("RNNKIT_KILLS=%q: want a count", v)
		}
		return n
	}
	if testing.Short() {
		return 0
	}
	return 3
}

// A training process killed with SIGKILL at a random moment (seeded by
// RNNKIT_KILL_SEED, default 1), mid-step, mid-checkpoint or before its
// first checkpoint, leaves a newest checkpoint that loads (no damaged file
// is ever skipped), and a run resumed from it (or started again, when none
// had been written) ends with the same parameters, bit for bit, as a run
// never stopped. RNNKIT_KILLS sets the number of kills (3 by default):
//
//	RNNKIT_KILLS=20 go test ./cmd/rnnkit -run TestKilledRunResumesBitIdentical -v -timeout 30m
func TestKilledRunResumesBitIdentical(t *testing.T) {
	n := killTrials(t)
	if n == 0 {
		t.Skip("no kills asked for (-short or RNNKIT_KILLS=0)")
	}
	seed := uint64(1)
	if v := os.Getenv("RNNKIT_KILL_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("RNNKIT_KILL_SEED=%q: %v", v, err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"train", "-preset", "addition-peeky", "-examples", "800", "-epochs", "2", "-hidden", "16",
			"-embed", "8", "-batch", "32", "-out", out, "-checkpoint-every", "1", "-keep", "3", "-log-every", "1000"}
	}
	child := func(out string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run", "^$")
		cmd.Env = append(os.Environ(), "RNNKIT_CHILD_ARGS="+strings.Join(args(out), "\x1f"))
		return cmd
	}
	whole := filepath.Join(dir, "whole")
	start := time.Now()
	if out, err := child(whole).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	runTime := time.Since(start)
	want, wantStep := finalParams(t, whole)

	killed, attempts := 0, 0
	for killed < n {
		attempts++
		if attempts > 3*n {
			t.Fatalf("only %d of %d attempts were killed before they finished", killed, attempts-1)
		}
		out := filepath.Join(dir, fmt.Sprintf("killed-%d", attempts))
		delay := time.Duration(rng.Int64N(int64(runTime)))
		cmd := child(out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			t.Logf("attempt %d: the run finished within %v, before its kill", attempts, delay)
			continue
		case <-time.After(delay):
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err == nil {
			t.Logf("attempt %d: the run finished just before its kill at %v", attempts, delay)
			continue
		}
		killed++
		var skipped []string
		mgr := &checkpoint.Manager{Dir: out, Logf: func(f string, a ...any) { skipped = append(skipped, fmt.Sprintf(f, a...)) }}
		c, path, err := mgr.Latest()
		resume := []string{"-resume"}
		atKill := "before its first checkpoint (none to load; started again)"
		switch {
		case len(skipped) > 0:
			t.Fatalf("kill %d at %v left a damaged checkpoint: %v", killed, delay, skipped)
		case errors.Is(err, checkpoint.ErrNoCheckpoint):
			resume = nil // nothing saved yet: start again
		case err != nil:
			t.Fatalf("kill %d at %v: %v", killed, delay, err)
		default:
			atKill = fmt.Sprintf("at step %d (%s)", c.Meta.Step, filepath.Base(path))
		}
		if so, se, code := runCmd(t, append(args(out), resume...)...); code != 0 {
			t.Fatalf("kill %d %s: resumed run: exit %d\n%s%s", killed, atKill, code, so, se)
		}
		got, gotStep := finalParams(t, out)
		if gotStep != wantStep {
			t.Fatalf("kill %d %s: resumed run ended at step %d, uninterrupted at %d", killed, atKill, gotStep, wantStep)
		}
		for _, name := range want.Names() {
			a, _ := want.Get(name)
			b, ok := got.Get(name)
			if !ok {
				t.Fatalf("kill %d: resumed run lacks %s", killed, name)
			}
			av, _ := graph.Float64s(a)
			bv, _ := graph.Float64s(b)
			for i := range av {
				if math.Float64bits(av[i]) != math.Float64bits(bv[i]) {
					t.Fatalf("kill %d %s: %s[%d]: resumed %v, uninterrupted %v", killed, atKill, name, i, bv[i], av[i])
				}
			}
		}
		t.Logf("kill %d after %v, %s of %d: checkpoints sound, resumed run bit-identical", killed, delay.Round(time.Millisecond), atKill, wantStep)
		os.RemoveAll(out)
	}
	t.Logf("%d kills survived (%d attempts; uninterrupted run %v, seed %d)", killed, attempts, runTime.Round(time.Millisecond), seed)
}
