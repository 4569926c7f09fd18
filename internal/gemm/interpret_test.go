package gemm

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKernelsInterpreted runs scripts/emulate_gemm_kernels.py, which builds
// this package's test binary with its symbols (go test strips those of the
// binary it runs) and interprets every assembly micro-kernel, the AVX-512 ones
// included, from GNU objdump's disassembly on exact data and compares the
// C tiles with the reference, so that kernels this CPU cannot execute are
// checked too. It needs amd64, python3, objdump and the go command, and
// is skipped with -short.
func TestKernelsInterpreted(t *testing.T) {
	if !asmBuilt {
		t.Skip("no assembly kernels in this build")
	}
	if testing.Short() {
		t.Skip("-short: the interpreter takes seconds")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to run scripts/emulate_gemm_kernels.py")
	}
	if _, err := exec.LookPath("objdump"); err != nil {
		t.Skip("no objdump (binutils) to disassemble the kernels")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the test binary with its symbols")
	}
	script := filepath.Join("scripts", "emulate_gemm_kernels.py")
	cmd := exec.Command(python, script)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
}
