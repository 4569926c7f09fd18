package torch

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// TestMakeScriptLive runs testdata/make.py with the system's PyTorch into
// a temporary folder and reads what it wrote: files written now, by
// whatever PyTorch is installed, read as the committed ones do, and the
// expected values equal the committed ones (make.py is seeded). Without
// /usr/bin/python3 and torch it skips, saying why; the committed files
// keep TestCommittedFiles independent of Python.
func TestMakeScriptLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running PyTorch")
	}
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	env := append(os.Environ(), "OMP_WAIT_POLICY=PASSIVE", "OMP_NUM_THREADS=1")
	probe := exec.Command(python, "-c", "import torch, numpy")
	probe.Env = env
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("%s cannot import torch and numpy: %v\n%s", python, err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command(python, filepath.Join("testdata", "make.py"), dir)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make.py: %v\n%s", err, out)
	}
	fresh := readExpected(t, dir)
	files, values := checkCases(t, dir, fresh)
	t.Logf("torch %s: %d files written now, %d values compared", fresh.Torch, files, values)

	committed := readExpected(t, "testdata")
	if fresh.Torch == committed.Torch && !reflect.DeepEqual(fresh.Cases, committed.Cases) {
		t.Errorf("make.py under torch %s no longer writes the committed expected.json: run it again and commit", fresh.Torch)
	}
}
