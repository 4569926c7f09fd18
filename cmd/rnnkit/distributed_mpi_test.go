//go:build mpi

package main

// The MPI tests of train -distributed: they start this test binary as the
// ranks of mpirun (run them with: go test -tags mpi ./cmd/rnnkit -run MPI).

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// mpiRun starts `mpirun -np n rnnkit args…` (this binary as rnnkit) and
// returns the command, its combined output going to out. It skips the
// test when mpirun is missing.
func mpiRun(t *testing.T, n int, out *bytes.Buffer, marker string, args ...string) *exec.Cmd {
	t.Helper()
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun is not installed (Debian: openmpi-bin, libopenmpi-dev): skipping the MPI test")
	}
	cmd := exec.Command(mpirun, "-np", strconv.Itoa(n), "--oversubscribe", "--mca", "btl_tcp_if_include", "lo",
		"--mca", "oob_tcp_if_include", "lo", os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), "RNNKIT_CHILD_ARGS="+strings.Join(args, "\x1f"), "RNNKIT_MPI_TEST="+marker,
		"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

// lmText writes a small text for the charlm preset and returns its path.
func lmText(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "text.txt")
	text := strings.Repeat("the cat sat on the mat. the dog sat on the log. a bird sang. ", 30)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func lmArgs(text, out string, extra ...string) []string {
	return append([]string{"train", "-preset", "charlm", "-data", text, "-hidden", "12", "-embed", "6", "-layers", "2",
		"-batch", "5", "-bptt", "10", "-dtype", "float64", "-out", out, "-log-every", "1000"}, extra...)
}

func s2sArgs(out string, extra ...string) []string {
	return append([]string{"train", "-preset", "addition", "-examples", "200", "-batch", "15", "-hidden", "8", "-embed", "6",
		"-epochs", "1", "-dtype", "float64", "-out", out, "-log-every", "1000"}, extra...)
}

func relDiff(t *testing.T, a, b *graph.Params) float64 {
	t.Helper()
	worst := 0.0
	for _, name := range a.Names() {
		pa, _ := a.Get(name)
		pb, ok := b.Get(name)
		if !ok {
			t.Fatalf("parameter %s missing", name)
		}
		x, _ := graph.Float64s(pa)
		y, _ := graph.Float64s(pb)
		d, s := 0.0, 0.0
		for i := range x {
			d, s = math.Max(d, math.Abs(x[i]-y[i])), math.Max(s, math.Abs(x[i]))
		}
		worst = math.Max(worst, d/s)
	}
	return worst
}

// mpirun -np 2 training ends where one process ends (float64, ≤ 1e-12
// relative, the same number of steps), and two such runs are bit for bit
// equal.
func TestMPITrainEqualsSingleProcess(t *testing.T) {
	text := lmText(t)
	for _, c := range []struct {
		name string
		args func(out string, extra ...string) []string
	}{
		{"charlm", func(out string, extra ...string) []string {
			return lmArgs(text, out, append([]string{"-epochs", "1"}, extra...)...)
		}},
		{"addition", s2sArgs},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			alone := filepath.Join(dir, "alone")
			if so, se, code := runChild(t, "", c.args(alone)...); code != 0 {
				t.Fatalf("one process: exit %d\n%s%s", code, so, se)
			}
			want, wantStep := finalParams(t, alone)
			var runs []*graph.Params
			for i := range 2 {
				out := filepath.Join(dir, fmt.Sprint("group", i))
				var buf bytes.Buffer
				if err := mpiRun(t, 2, &buf, "equal", c.args(out, "-distributed")...).Run(); err != nil {
					t.Fatalf("mpirun: %v\n%s", err, buf.String())
				}
				got, step := finalParams(t, out)
				if step != wantStep {
					t.Fatalf("the group ended at step %d, one process at %d", step, wantStep)
				}
				d := relDiff(t, want, got)
				t.Logf("mpirun -np 2, run %d: %d steps, largest relative difference from one process %.3g", i+1, step, d)
				if !(d <= 1e-12) {
					t.Errorf("run %d: parameters differ from one process's by %.3g relative", i+1, d)
				}
				runs = append(runs, got)
			}
			if d := relDiff(t, runs[0], runs[1]); d != 0 {
				t.Errorf("two runs of the group differ by %.3g relative, want bit for bit equal", d)
			}
		})
	}
}

// rankPID returns the pid of the process of rank of the run marked
// marker, or 0.
func rankPID(marker string, rank int) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		env := "\x00" + string(b)
		if strings.Contains(env, "\x00RNNKIT_MPI_TEST="+marker+"\x00") && strings.Contains(env, fmt.Sprintf("\x00OMPI_COMM_WORLD_RANK=%d\x00", rank)) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return pid
		}
	}
	return 0
}

// A rank killed mid-run (SIGKILL) makes the group stop within a minute
// with an error that names it, the newest checkpoint loads, and the run
// resumes from it under mpirun.
func TestMPIRankKilled(t *testing.T) {
	text := lmText(t)
	out := filepath.Join(t.TempDir(), "run")
	marker := fmt.Sprint("kill-", os.Getpid(), "-", time.Now().UnixNano())
	var buf bytes.Buffer
	cmd := mpiRun(t, 2, &buf, marker, lmArgs(text, out, "-epochs", "1000", "-checkpoint-every", "3", "-distributed-timeout", "20s", "-distributed")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		files, _ := filepath.Glob(filepath.Join(out, "ckpt-*.safetensors"))
		if len(files) >= 2 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the run ended before it was killed: %v\n%s", err, buf.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no checkpoint within 2 minutes\n%s", buf.String())
		}
	}
	pid := rankPID(marker, 1)
	if pid == 0 {
		_ = cmd.Process.Kill()
		t.Fatal("rank 1's process not found")
	}
	killed := time.Now()
	if err := exec.Command("kill", "-KILL", strconv.Itoa(pid)).Run(); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the group still runs a minute after rank 1 was killed\n%s", buf.String())
	}
	t.Logf("rank 1 (pid %d) killed; mpirun ended %.1f s later: %v", pid, time.Since(killed).Seconds(), err)
	msg := buf.String()
	if err == nil || !strings.Contains(msg, "signal 9") {
		t.Errorf("mpirun: %v, want a failure that names the killed rank's signal 9:\n%s", err, msg)
	}
	noCrash(t, "killed group", msg)
	var skipped []string
	mgr := &checkpoint.Manager{Dir: out, Logf: func(f string, a ...any) { skipped = append(skipped, fmt.Sprintf(f, a...)) }}
	c, path, lerr := mgr.Latest()
	if lerr != nil || len(skipped) > 0 {
		t.Fatalf("the newest checkpoint: %v (skipped %v)", lerr, skipped)
	}
	t.Logf("newest checkpoint %s, step %d, intact", filepath.Base(path), c.Meta.Step)
	// Resume it, under mpirun, to the end of its epoch and one more.
	buf.Reset()
	epochs := fmt.Sprint(c.Meta.Epoch + 2)
	if err := mpiRun(t, 2, &buf, marker+"-resume", lmArgs(text, out, "-epochs", epochs, "-resume", "-distributed")...).Run(); err != nil {
		t.Fatalf("resuming: %v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "resumed from") {
		t.Errorf("the resumed run said:\n%s", buf.String())
	}
}
