package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// The built command itself: `train -preset charlm -log-every 0` with
// standard input from /dev/null (it used to panic in progress.go) exits 2
// with a message and no goroutine dump; a training run sent SIGTERM stops
// as on SIGINT, after the current step, saving a checkpoint from which
// -resume goes on to the end.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command (-short)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rnnkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	corpus := filepath.Join(dir, "corpus.txt")
	if err := os.WriteFile(corpus, []byte(strings.Repeat("to be or not to be, that is the question. ", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	cmd := exec.Command(bin, "train", "-preset", "charlm", "-data", corpus, "-log-every", "0", "-out", filepath.Join(dir, "never"))
	cmd.Stdin = devNull
	var se bytes.Buffer
	cmd.Stderr = &se
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(se.String(), "-log-every 0") {
		t.Fatalf("-log-every 0: %v, stderr %q; want exit 2 naming the flag", err, se.String())
	}
	noCrash(t, "-log-every 0", se.String())

	out := filepath.Join(dir, "run")
	args := []string{"train", "-preset", "charlm", "-data", corpus, "-epochs", "1000", "-hidden", "8", "-embed", "4",
		"-batch", "2", "-bptt", "8", "-out", out, "-log-every", "1"}
	cmd = exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	se.Reset()
	cmd.Stderr = &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "epoch 1  step 3/") {
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() {
		for lines.Scan() {
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the run did not stop within a minute of SIGTERM")
	}
	ee, ok = err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || !strings.Contains(se.String(), "interrupted at epoch") {
		t.Fatalf("SIGTERM: %v, stderr %q; want exit 1 and an interrupted message", err, se.String())
	}
	noCrash(t, "SIGTERM", se.String())
	c, path, err := (&checkpoint.Manager{Dir: out}).Latest()
	if err != nil || c.Meta.Step < 3 || !strings.Contains(se.String(), filepath.Base(path)) {
		t.Fatalf("after SIGTERM: newest checkpoint %s (%v); stderr %q", path, err, se.String())
	}
	resumed := exec.Command(bin, append(args[:len(args)-2], "-epochs", "1", "-log-every", "1000", "-resume")...)
	if b, err := resumed.CombinedOutput(); err != nil || !strings.Contains(string(b), "resumed from "+path) {
		t.Fatalf("resume after SIGTERM: %v\n%s", err, b)
	}
}
