package checkpoint

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// stepCheckpoint returns a small checkpoint at a step.
func stepCheckpoint(t *testing.T, step int) *Checkpoint {
	t.Helper()
	c := smallCheckpoint(t)
	c.Meta.Step = step
	return c
}

// names lists a directory.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// logs returns a Logf that records into *lines.
func logs(lines *[]string) func(string, ...any) {
	return func(format string, args ...any) { *lines = append(*lines, fmt.Sprintf(format, args...)) }
}

func TestManagerKeepLast(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run") // created by Save
	m := &Manager{Dir: dir, KeepLast: 3}
	for step := 1; step <= 6; step++ {
		path, err := m.Save(stepCheckpoint(t, step*100))
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, fmt.Sprintf("ckpt-%08d.safetensors", step*100)); path != want {
			t.Errorf("path %s, want %s", path, want)
		}
	}
	want := []string{"ckpt-00000400.safetensors", "ckpt-00000500.safetensors", "ckpt-00000600.safetensors"}
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	c, path, err := m.Latest()
	if err != nil || c.Meta.Step != 600 || filepath.Base(path) != want[2] {
		t.Fatalf("Latest: step %v, %s, %v", c, path, err)
	}
	sameCheckpoint(t, stepCheckpoint(t, 600), c)
}

// A checkpoint of an earlier step than those kept is written and kept; the
// oldest others go.
func TestManagerKeepsJustWritten(t *testing.T) {
	m := &Manager{Dir: t.TempDir(), KeepLast: 2}
	for _, step := range []int{10, 20, 30, 5} {
		if _, err := m.Save(stepCheckpoint(t, step)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"ckpt-00000005.safetensors", "ckpt-00000030.safetensors"}
	if got := names(t, m.Dir); !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
}

// KeepLast 0 keeps everything; other files in the directory are never touched.
func TestManagerKeepAll(t *testing.T) {
	m := &Manager{Dir: t.TempDir()}
	os.WriteFile(filepath.Join(m.Dir, "notes.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(m.Dir, "ckpt-1.safetensors"), []byte("x"), 0o644)
	for step := range 5 {
		if _, err := m.Save(stepCheckpoint(t, step)); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(t, m.Dir); len(got) != 7 {
		t.Errorf("files %q", got)
	}
	m.KeepLast = 1
	if _, err := m.Save(stepCheckpoint(t, 5)); err != nil {
		t.Fatal(err)
	}
	want := []string{"ckpt-00000005.safetensors", "ckpt-1.safetensors", "notes.txt"}
	if got := names(t, m.Dir); !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
}

func TestManagerLatestSkipsDamaged(t *testing.T) {
	var lines []string
	m := &Manager{Dir: t.TempDir(), KeepLast: 5, Logf: logs(&lines)}
	var paths []string
	for _, step := range []int{1, 2, 3, 4} {
		p, err := m.Save(stepCheckpoint(t, step))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// Step 4 truncated, step 3 with a flipped data bit: Latest falls back to 2.
	b, _ := os.ReadFile(paths[3])
	os.WriteFile(paths[3], b[:len(b)/2], 0o644)
	b, _ = os.ReadFile(paths[2])
	b[len(b)-1] ^= 1
	os.WriteFile(paths[2], b, 0o644)
	c, path, err := m.Latest()
	if err != nil || c.Meta.Step != 2 || path != paths[1] {
		t.Fatalf("Latest: %v %s %v", c, path, err)
	}
	if len(lines) != 2 || !strings.Contains(lines[0], paths[3]) || !strings.Contains(lines[1], "checksum mismatch") {
		t.Errorf("log %q", lines)
	}
	t.Logf("log:\n%s", strings.Join(lines, "\n"))
}

func TestManagerLatestNone(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for _, m := range []*Manager{{Dir: filepath.Join(dir, "missing")}, {Dir: dir, Logf: logs(&lines)}} {
		if _, _, err := m.Latest(); !errors.Is(err, ErrNoCheckpoint) {
			t.Errorf("%s: %v", m.Dir, err)
		}
	}
	os.WriteFile(filepath.Join(dir, StepName(7)), []byte("garbage"), 0o644)
	m := &Manager{Dir: dir, Logf: logs(&lines)}
	if _, _, err := m.Latest(); !errors.Is(err, ErrNoCheckpoint) || !strings.Contains(err.Error(), "1 damaged") {
		t.Errorf("%v", err)
	}
	if len(lines) != 1 {
		t.Errorf("log %q", lines)
	}
}

func TestManagerSaveBest(t *testing.T) {
	for _, higher := range []bool{true, false} {
		t.Run(fmt.Sprint("higherIsBetter=", higher), func(t *testing.T) {
			m := &Manager{Dir: t.TempDir(), KeepLast: 1}
			sign := 1.0
			if !higher {
				sign = -1
			}
			steps := []struct {
				score float64
				saved bool
			}{{0.5, true}, {0.4, false}, {0.5, false}, {0.7, true}, {0.6, false}, {math.Inf(1), true}}
			best := 0
			for i, s := range steps {
				c := stepCheckpoint(t, i)
				saved, err := m.SaveBest(c, sign*s.score, higher)
				if err != nil || saved != s.saved {
					t.Fatalf("score %v: saved %v, %v; want %v", sign*s.score, saved, err, s.saved)
				}
				if _, ok := c.Meta.Extra[BestScoreKey]; ok {
					t.Error("SaveBest changed the caller's Extra")
				}
				if saved {
					best = i
				}
				got, err := Load(filepath.Join(m.Dir, BestName))
				if err != nil {
					t.Fatal(err)
				}
				if got.Meta.Step != best || got.Meta.Extra["loss"] != "1.5" {
					t.Errorf("best file: step %d, want %d; extra %q", got.Meta.Step, best, got.Meta.Extra)
				}
				score, ok, err := m.Best()
				if err != nil || !ok || score != sign*steps[best].score {
					t.Errorf("Best() = %v %v %v, want %v", score, ok, err, sign*steps[best].score)
				}
			}
			// The best file is kept apart from the step files.
			if _, err := m.Save(stepCheckpoint(t, 100)); err != nil {
				t.Fatal(err)
			}
			if got := names(t, m.Dir); !slices.Equal(got, []string{BestName, StepName(100)}) {
				t.Errorf("files %q", got)
			}
		})
	}
}

func TestManagerSaveBestReplacesDamaged(t *testing.T) {
	var lines []string
	m := &Manager{Dir: t.TempDir(), Logf: logs(&lines)}
	if saved, err := m.SaveBest(stepCheckpoint(t, 1), 10, true); !saved || err != nil {
		t.Fatal(saved, err)
	}
	path := filepath.Join(m.Dir, BestName)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-3], 0o644)
	if saved, err := m.SaveBest(stepCheckpoint(t, 2), 1, true); !saved || err != nil {
		t.Fatal(saved, err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "replacing the best checkpoint") {
		t.Errorf("log %q", lines)
	}
	// A best file without a score is replaced too.
	if err := Save(path, stepCheckpoint(t, 3)); err != nil {
		t.Fatal(err)
	}
	if saved, err := m.SaveBest(stepCheckpoint(t, 4), -1e300, true); !saved || err != nil {
		t.Fatal(saved, err)
	}
	if c, err := Load(path); err != nil || c.Meta.Step != 4 || c.Meta.Extra[BestScoreKey] != "-1e+300" {
		t.Errorf("%v %v", c, err)
	}
}

func TestManagerRefuses(t *testing.T) {
	m := &Manager{Dir: t.TempDir()}
	if _, err := m.SaveBest(stepCheckpoint(t, 1), math.NaN(), true); err == nil {
		t.Error("NaN score accepted")
	}
	if _, err := m.Save(stepCheckpoint(t, -1)); err == nil {
		t.Error("negative step accepted")
	}
	if _, err := m.Save(nil); err == nil {
		t.Error("nil checkpoint accepted")
	}
	if _, err := (&Manager{}).Save(stepCheckpoint(t, 1)); err == nil {
		t.Error("empty Dir accepted")
	}
	bad := stepCheckpoint(t, 1)
	bad.Meta.Model = nil
	if _, err := m.Save(bad); err == nil {
		t.Error("checkpoint without a model saved")
	}
	if got := names(t, m.Dir); len(got) != 0 {
		t.Errorf("files %q", got)
	}
}
