package checkpoint

import (
	"log"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/pkg/errors"
)

// BestName is the name of the file in which [Manager.SaveBest] keeps the
// best checkpoint.
const BestName = "best.safetensors"

// BestScoreKey is the key of Meta.Extra under which [Manager.SaveBest]
// stores the score of the best checkpoint, formatted by
// strconv.FormatFloat(score, 'g', -1, 64).
const BestScoreKey = "best_score"

// stepFile matches the names Manager.Save writes.
var stepFile = regexp.MustCompile(`^ckpt-([0-9]{8,18})\.safetensors$`)

// StepName returns the name of the file [Manager.Save] writes for a step:
// "ckpt-%08d.safetensors".
func StepName(step int) string { return "ckpt-" + pad8(step) + ".safetensors" }

func pad8(step int) string {
	s := strconv.Itoa(step)
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}

// Manager keeps a directory of checkpoints: one file per step, named by
// [StepName], of which it keeps the KeepLast newest, and [BestName], the best
// by a score, kept apart from them.
//
// "Newest" is "highest step". A Manager assumes it is the only writer of
// Dir; it is not safe for concurrent use. Leftover temporary files of a
// crashed [Save] (".ckpt-….tmp-…") are ignored, never removed.
type Manager struct {
	// Dir is the directory; Save and SaveBest create it when missing.
	Dir string
	// KeepLast is the number of step files kept; 0 or less keeps them all.
	KeepLast int
	// Logf receives the reasons for skipping damaged files; nil means
	// log.Printf.
	Logf func(format string, args ...any)
}

func (m *Manager) logf(format string, args ...any) {
	if m.Logf != nil {
		m.Logf(format, args...)
		return
	}
	log.Printf(format, args...)
}

func (m *Manager) mkdir() error {
	if m.Dir == "" {
		return errors.New("checkpoint: Manager.Dir is empty")
	}
	return errors.Wrap(os.MkdirAll(m.Dir, 0o755), "checkpoint")
}

// Save writes c to Dir as [StepName](c.Meta.Step) with [Save], then removes
// step files so that KeepLast remain: the file just written (even when its
// step is lower than others') and the newest others. It returns the path
// written; when only a removal fails, it returns the path and the error.
func (m *Manager) Save(c *Checkpoint) (string, error) {
	if c == nil {
		return "", errors.New("checkpoint: Manager.Save: nil checkpoint")
	}
	if c.Meta.Step < 0 {
		return "", errors.Errorf("checkpoint: Manager.Save: negative step %d", c.Meta.Step)
	}
	if err := m.mkdir(); err != nil {
		return "", err
	}
	path := filepath.Join(m.Dir, StepName(c.Meta.Step))
	if err := Save(path, c); err != nil {
		return "", err
	}
	if m.KeepLast <= 0 {
		return path, nil
	}
	files, err := m.stepFiles()
	if err != nil {
		return path, err
	}
	kept := 1 // the file just written
	var first error
	for _, f := range files {
		if f.path == path {
			continue
		}
		if kept < m.KeepLast {
			kept++
			continue
		}
		if err := os.Remove(f.path); err != nil && first == nil {
			first = errors.Wrap(err, "checkpoint: removing an old checkpoint")
		}
	}
	return path, first
}

type stepPath struct {
	step int
	path string
}

// stepFiles lists the step files of Dir, newest first.
func (m *Manager) stepFiles() ([]stepPath, error) {
	ents, err := os.ReadDir(m.Dir)
	if err != nil {
		return nil, errors.Wrap(err, "checkpoint")
	}
	var out []stepPath
	for _, e := range ents {
		sm := stepFile.FindStringSubmatch(e.Name())
		if sm == nil || !e.Type().IsRegular() {
			continue
		}
		step, err := strconv.Atoi(sm[1])
		if err != nil {
			continue
		}
		out = append(out, stepPath{step, filepath.Join(m.Dir, e.Name())})
	}
	slices.SortFunc(out, func(a, b stepPath) int {
		if a.step != b.step {
			return b.step - a.step
		}
		return compareStrings(b.path, a.path)
	})
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Latest returns the newest step file of Dir that loads and verifies, and
// its path. Damaged files are skipped, each with its reason sent to Logf.
// With none, the error wraps [ErrNoCheckpoint]. [BestName] is not
// considered.
func (m *Manager) Latest() (*Checkpoint, string, error) {
	files, err := m.stepFiles()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", errors.Wrapf(ErrNoCheckpoint, "checkpoint: %s does not exist", m.Dir)
		}
		return nil, "", err
	}
	for _, f := range files {
		c, err := Load(f.path)
		if err == nil {
			return c, f.path, nil
		}
		m.logf("checkpoint: skipping %s: %v", f.path, err)
	}
	return nil, "", errors.Wrapf(ErrNoCheckpoint, "checkpoint: in %s (%d damaged files skipped)", m.Dir, len(files))
}

// Best returns the score stored in Dir's [BestName], if the file loads and
// verifies and holds one. It loads the whole file.
func (m *Manager) Best() (score float64, ok bool, err error) {
	path := filepath.Join(m.Dir, BestName)
	c, err := Load(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, false, nil
		}
		return 0, false, err
	}
	s, found := c.Meta.Extra[BestScoreKey]
	if !found {
		return 0, false, errors.Errorf("checkpoint: %s has no Extra[%q]", path, BestScoreKey)
	}
	score, perr := strconv.ParseFloat(s, 64)
	if perr != nil || math.IsNaN(score) {
		return 0, false, errors.Errorf("checkpoint: %s: Extra[%q] = %.40q is not a number", path, BestScoreKey, s)
	}
	return score, true, nil
}

// SaveBest writes c to Dir's [BestName] when score is strictly better than
// the score stored there (higher or lower, by higherIsBetter), or when there
// is no best file yet. The file gets the score in Extra[[BestScoreKey]]; c
// itself is not changed. A best file that is damaged or holds no score is
// replaced, with the reason sent to Logf. A NaN score is an error.
//
// SaveBest loads the current best file to read its score, so it costs a
// read of one checkpoint besides the write.
func (m *Manager) SaveBest(c *Checkpoint, score float64, higherIsBetter bool) (bool, error) {
	if c == nil {
		return false, errors.New("checkpoint: SaveBest: nil checkpoint")
	}
	if math.IsNaN(score) {
		return false, errors.New("checkpoint: SaveBest: score is NaN")
	}
	if err := m.mkdir(); err != nil {
		return false, err
	}
	best, ok, err := m.Best()
	if err != nil {
		m.logf("checkpoint: replacing the best checkpoint: %v", err)
	}
	if ok && (higherIsBetter && score <= best || !higherIsBetter && score >= best) {
		return false, nil
	}
	cc := *c
	cc.Meta.Extra = make(map[string]string, len(c.Meta.Extra)+1)
	for k, v := range c.Meta.Extra {
		cc.Meta.Extra[k] = v
	}
	cc.Meta.Extra[BestScoreKey] = strconv.FormatFloat(score, 'g', -1, 64)
	if err := Save(filepath.Join(m.Dir, BestName), &cc); err != nil {
		return false, err
	}
	return true, nil
}
