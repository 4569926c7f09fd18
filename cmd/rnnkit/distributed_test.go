package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		return []cliCommand{{
			name: "train distributed",
			base: []string{"train", "-preset", "addition", "-examples", "40", "-batch", "8", "-epochs", "1", "-hidden", "4", "-embed", "4",
				"-log-every", "1000", "-out", "{out}"},
			flags: []flagSpec{{"distributed", "bool", "22", ""}},
			rows: []cliRow{
				// Not under mpirun (and, in the default build, without MPI).
				{flag: "distributed", value: "=true", code: 1, want: "-distributed"},
				{flag: "distributed-timeout", value: "-1s", code: 2, want: "-distributed-timeout"},
				{flag: "distributed-timeout", value: "x", code: 2, want: "-distributed-timeout"},
			},
		}}
	})
}

// -distributed outside mpirun (or in a build without MPI) is an error that
// says what to do, and nothing is written.
func TestDistributedNeedsMPILaunch(t *testing.T) {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"} {
		if _, ok := os.LookupEnv(k); ok {
			t.Skipf("running under an MPI launcher (%s is set)", k)
		}
	}
	out := filepath.Join(t.TempDir(), "run")
	_, se, code := runCmd(t, "train", "-preset", "addition", "-examples", "40", "-batch", "8", "-epochs", "1", "-hidden", "4",
		"-embed", "4", "-out", out, "-distributed")
	if code != 1 || !(strings.Contains(se, "built without MPI") || strings.Contains(se, "not launched by mpirun")) {
		t.Errorf("exit %d, stderr %q; want 1 and why", code, se)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was created", out)
	}
}
