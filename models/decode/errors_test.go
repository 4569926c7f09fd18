package decode

import (
	"math"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

var (
	errStep   = errors.New("step failed")
	errSelect = errors.New("select failed")
)

// badModel is a funcModel that misbehaves at step at (0-based).
type badModel struct {
	funcModel
	at   int
	mode string
	n    int
}

func (m *badModel) Vocab() int {
	if m.mode == "vocab panic" {
		panic("vocab")
	}
	return m.funcModel.Vocab()
}

func (m *badModel) Step(s State, tokens []int) ([][]float64, State, error) {
	logits, next, err := m.funcModel.Step(s, tokens)
	n := m.n
	m.n++
	if err != nil || n != m.at {
		return logits, next, err
	}
	v := m.vocab
	switch m.mode {
	case "short logits":
		logits[len(logits)-1] = logits[len(logits)-1][:v-1]
	case "long logits":
		logits[0] = append(logits[0], 0)
	case "few rows":
		logits = logits[:len(logits)-1]
	case "many rows":
		logits = append(logits, logits[0])
	case "nil state":
		next = nil
	case "typed nil state":
		next = (*histState)(nil)
	case "state rows":
		next = &histState{ids: append([]int{0}, next.(*histState).ids...), hist: make([][]int, len(tokens)+1)}
	case "NaN":
		logits[0][1] = math.NaN()
	case "+Inf":
		logits[0][1] = math.Inf(1)
	case "all -Inf":
		for j := range logits[0] {
			logits[0][j] = math.Inf(-1)
		}
	case "error":
		return nil, nil, errStep
	case "panic":
		panic("step")
	}
	return logits, next, nil
}

type decoder func(m Model, s State, opt Options) error

var decoders = map[string]decoder{
	"greedy": func(m Model, s State, opt Options) error { _, err := Greedy(m, s, opt); return err },
	"sample": func(m Model, s State, opt Options) error {
		_, err := Sample(m, s, opt, SampleOptions{Temperature: 1, TopK: 3, TopP: 0.9, Source: src(1)})
		return err
	},
	"beam": func(m Model, s State, opt Options) error {
		_, err := Beam(m, s, opt, BeamOptions{Width: 3, NBest: 2, LengthPenalty: 0.6})
		return err
	},
}

func okModel() *funcModel {
	return &funcModel{vocab: 5, f: randomLogits(5, 1, 1, eos, -3)} // EOS unlikely
}

var okOpt = Options{BOS: bos, EOS: eos, MaxLen: 6}

// wantErr checks that err wraps sentinel and says where it came from.
func wantErr(t *testing.T, what string, err, sentinel error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	t.Logf("%s: %v", what, err)
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: %v does not wrap %v", what, err, sentinel)
	}
	if !strings.HasPrefix(err.Error(), "decode: ") {
		t.Errorf("%s: %q does not start with the package name", what, err)
	}
}

func TestBadArguments(t *testing.T) {
	cases := []struct {
		name string
		m    Model
		s    State
		opt  Options
	}{
		{"nil model", nil, newHistState(0), okOpt},
		{"typed nil model", (*funcModel)(nil), newHistState(0), okOpt},
		{"nil state", okModel(), nil, okOpt},
		{"typed nil state", okModel(), (*histState)(nil), okOpt},
		{"no rows", okModel(), newHistState(), okOpt},
		{"MaxLen 0", okModel(), newHistState(0), Options{BOS: bos, EOS: eos}},
		{"MaxLen -1", okModel(), newHistState(0), Options{BOS: bos, EOS: eos, MaxLen: -1}},
		{"BOS -1", okModel(), newHistState(0), Options{BOS: -1, EOS: eos, MaxLen: 3}},
		{"BOS = vocab", okModel(), newHistState(0), Options{BOS: 5, EOS: eos, MaxLen: 3}},
		{"EOS -1", okModel(), newHistState(0), Options{BOS: bos, EOS: -1, MaxLen: 3}},
		{"EOS = vocab", okModel(), newHistState(0), Options{BOS: bos, EOS: 5, MaxLen: 3}},
	}
	for _, c := range cases {
		for name, d := range decoders {
			wantErr(t, name+": "+c.name, d(c.m, c.s, c.opt), ErrInvalid)
		}
	}
}

func TestBadSampleOptions(t *testing.T) {
	for _, so := range []SampleOptions{
		{Temperature: -1, Source: src(1)},
		{Temperature: math.NaN(), Source: src(1)},
		{Temperature: math.Inf(1), Source: src(1)},
		{Temperature: 1, TopK: -1, Source: src(1)},
		{Temperature: 1, TopP: -0.1, Source: src(1)},
		{Temperature: 1, TopP: 1.1, Source: src(1)},
		{Temperature: 1, TopP: math.NaN(), Source: src(1)},
		{Temperature: 1},
		{}, // greedy, but the source is still required
	} {
		_, err := Sample(okModel(), newHistState(0), okOpt, so)
		wantErr(t, "sample", err, ErrInvalid)
	}
}

func TestBadBeamOptions(t *testing.T) {
	for _, bo := range []BeamOptions{
		{},
		{Width: -1},
		{Width: 2, NBest: 3},
		{Width: 2, NBest: -1},
		{Width: 2, LengthPenalty: math.NaN()},
		{Width: 2, LengthPenalty: math.Inf(1)},
		{Width: math.MaxInt},
	} {
		_, err := Beam(okModel(), newHistState(0, 1), okOpt, bo)
		wantErr(t, "beam", err, ErrInvalid)
	}
}

func TestBadModels(t *testing.T) {
	modes := []string{"short logits", "long logits", "few rows", "many rows", "nil state", "typed nil state",
		"state rows", "NaN", "+Inf", "all -Inf", "panic", "vocab panic"}
	for _, mode := range modes {
		for _, at := range []int{0, 2} {
			for name, d := range decoders {
				m := &badModel{funcModel: *okModel(), at: at, mode: mode}
				wantErr(t, name+": "+mode, d(m, newHistState(0, 1), okOpt), ErrModel)
			}
		}
	}
	for name, d := range decoders {
		m := &badModel{funcModel: *okModel(), at: 1, mode: "error"}
		err := d(m, newHistState(0, 1), okOpt)
		if errors.Cause(err) != errStep || !strings.Contains(err.Error(), "step 1") {
			t.Errorf("%s: Step's error came back as %v", name, err)
		}
		wantErr(t, name+": zero vocabulary", d(&funcModel{vocab: 0}, newHistState(0), Options{MaxLen: 1}), ErrModel)
	}
}

func TestBadStates(t *testing.T) {
	for _, bad := range []string{"rows", "nil", "panic"} {
		s := newHistState(0, 1)
		s.bad = bad
		_, err := Beam(okModel(), s, okOpt, BeamOptions{Width: 2})
		wantErr(t, "beam: select "+bad, err, ErrModel)
	}
	s := newHistState(0, 1)
	s.bad = "error"
	_, err := Beam(okModel(), s, okOpt, BeamOptions{Width: 2})
	if errors.Cause(err) != errSelect {
		t.Errorf("Select's error came back as %v", err)
	}
	// A state that claims more rows than the model has: the model's error.
	for name, d := range decoders {
		s := newHistState(0, 1)
		err := d(okModel(), &lyingState{s}, okOpt)
		if err == nil {
			t.Errorf("%s: a state with the wrong number of rows gave no error", name)
		}
	}
}

// lyingState reports one row more than it holds.
type lyingState struct{ *histState }

func (s *lyingState) Rows() int { return s.histState.Rows() + 1 }
