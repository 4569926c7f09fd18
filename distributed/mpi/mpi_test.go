//go:build mpi

package mpi

import (
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// mpirunArgs returns the command line that starts n copies of the test
// binary running test under mpirun, or skips when mpirun is missing.
func mpirunArgs(t *testing.T, n int, test string) *exec.Cmd {
	t.Helper()
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun is not installed (Debian: openmpi-bin): the MPI tests need it")
	}
	cmd := exec.Command(mpirun, "-np", "2", "--oversubscribe", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo",
		os.Args[0], "-test.run", "^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "OMPI_MCA_plm_rsh_agent=")
	return cmd
}

// Under mpirun, two ranks sum, broadcast and meet; run alone, the test
// starts them.
func TestWorld(t *testing.T) {
	if !Launched() {
		out, err := mpirunArgs(t, 2, "TestWorld").CombinedOutput()
		if err != nil || strings.Count(string(out), "rank ok") != 2 {
			t.Fatalf("mpirun: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "allreduce of") {
				t.Log(strings.TrimSpace(line))
			}
		}
		return
	}
	w, err := Init(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Finalize()
	if w.Size() != 2 {
		t.Fatalf("size %d", w.Size())
	}
	r := float64(w.Rank())
	x := []float64{1 + r, 0.1 * r, 0}
	if r == 1 {
		x[2] = math.Inf(1)
	}
	if err := w.AllreduceSum(x); err != nil {
		t.Fatal(err)
	}
	if x[0] != 3 || x[1] != 0.1 || !math.IsInf(x[2], 1) {
		t.Errorf("rank %v: sum %v", r, x)
	}
	y := []float32{2 * float32(r), 1}
	if err := w.AllreduceSum32(y); err != nil {
		t.Fatal(err)
	}
	if y[0] != 2 || y[1] != 2 {
		t.Errorf("rank %v: sum32 %v", r, y)
	}
	b := []float64{r + 7, r}
	if err := w.Broadcast(b, 1); err != nil {
		t.Fatal(err)
	}
	if b[0] != 8 || b[1] != 1 {
		t.Errorf("rank %v: broadcast %v", r, b)
	}
	if err := w.Broadcast(b, 2); err == nil {
		t.Error("a broadcast from rank 2 of 2 was no error")
	}
	if err := w.Barrier(); err != nil {
		t.Fatal(err)
	}
	// The time of the all-reduce of a gradient the size of a small
	// language model's (107,416 float64 values).
	big := make([]float64, 107416)
	start := time.Now()
	const reps = 50
	for range reps {
		if err := w.AllreduceSum(big); err != nil {
			t.Fatal(err)
		}
	}
	if w.Rank() == 0 {
		t.Logf("allreduce of %d float64: %.3f ms each (%d runs)", len(big), 1000*time.Since(start).Seconds()/reps, reps)
	}
	if !t.Failed() {
		t.Logf("rank ok")
	}
}
