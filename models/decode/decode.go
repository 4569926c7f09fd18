package decode

import (
	"fmt"
	"math"
	"reflect"

	"github.com/pkg/errors"
)

// State is a decoder's recurrent state for a batch of rows (hypotheses).
type State interface {
	Rows() int
	// Select returns a state whose row i is this state's row rows[i] (rows
	// may repeat): beam search uses it to reorder and copy hypotheses.
	Select(rows []int) (State, error)
}

// Model advances every row by one token.
type Model interface {
	// Step feeds tokens[i] to row i of s and returns, per row, the
	// unnormalised log-scores (logits) over the vocabulary, and the next
	// state.
	Step(s State, tokens []int) (logits [][]float64, next State, err error)
	Vocab() int
}

// Options are the settings every decoder shares.
type Options struct {
	BOS    int // the token fed to every row first; in [0, Vocab)
	EOS    int // the token that ends a row; in [0, Vocab); never returned
	MaxLen int // the most steps (tokens, EOS included) a row takes; > 0
}

// Sentinel errors; test for them with errors.Is.
var (
	// ErrInvalid is returned for an invalid argument: a nil model or state,
	// an option out of range.
	ErrInvalid = errors.New("decode: invalid argument")
	// ErrModel is returned when a Model or State breaks its contract:
	// logits of the wrong shape, NaN or +Inf logits, a row with no finite
	// logit, a state with the wrong number of rows, a nil state, a panic.
	ErrModel = errors.New("decode: model broke its contract")
)

// decodeError is an error of one of the sentinel kinds.
type decodeError struct {
	kind error
	msg  string
}

func (e *decodeError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *decodeError) Unwrap() error { return e.kind }

func invalidf(format string, args ...any) error {
	return errors.WithStack(&decodeError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)})
}

func modelf(format string, args ...any) error {
	return errors.WithStack(&decodeError{kind: ErrModel, msg: fmt.Sprintf(format, args...)})
}

// isNil reports whether v is nil or an interface holding a nil pointer,
// map, slice, function or channel.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// setup validates the arguments every decoder shares and returns the
// vocabulary size and the number of rows of s0.
func setup(m Model, s0 State, opt Options) (vocab, rows int, err error) {
	if isNil(m) {
		return 0, 0, invalidf("nil model")
	}
	if isNil(s0) {
		return 0, 0, invalidf("nil state")
	}
	if opt.MaxLen <= 0 {
		return 0, 0, invalidf("MaxLen %d, want > 0", opt.MaxLen)
	}
	if vocab, err = safeVocab(m); err != nil {
		return 0, 0, err
	}
	if vocab <= 0 {
		return 0, 0, modelf("vocabulary size %d", vocab)
	}
	if opt.BOS < 0 || opt.BOS >= vocab {
		return 0, 0, invalidf("BOS %d outside the vocabulary [0, %d)", opt.BOS, vocab)
	}
	if opt.EOS < 0 || opt.EOS >= vocab {
		return 0, 0, invalidf("EOS %d outside the vocabulary [0, %d)", opt.EOS, vocab)
	}
	if rows, err = safeRows(s0); err != nil {
		return 0, 0, err
	}
	if rows <= 0 {
		return 0, 0, invalidf("initial state has %d rows, want > 0", rows)
	}
	return vocab, rows, nil
}

func safeVocab(m Model) (v int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = modelf("Model.Vocab panicked: %v", r)
		}
	}()
	return m.Vocab(), nil
}

func safeRows(s State) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = modelf("State.Rows panicked: %v", r)
		}
	}()
	return s.Rows(), nil
}

// step calls m.Step and checks the shapes of what it returns: rows rows of
// vocab logits each, and a next state of rows rows. Values are checked by
// the decoders, only in the rows they read.
func step(m Model, s State, tokens []int, vocab, t int) (logits [][]float64, next State, err error) {
	rows := len(tokens)
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		logits, next, err = m.Step(s, tokens)
	}()
	if panicked != nil {
		return nil, nil, modelf("step %d: Model.Step panicked: %v", t, panicked)
	}
	if err != nil {
		return nil, nil, errors.Wrapf(err, "decode: step %d", t)
	}
	if len(logits) != rows {
		return nil, nil, modelf("step %d: Step returned logits for %d rows, want %d", t, len(logits), rows)
	}
	for i, l := range logits {
		if len(l) != vocab {
			return nil, nil, modelf("step %d: Step returned %d logits for row %d, want the vocabulary size %d", t, len(l), i, vocab)
		}
	}
	if err := checkState(next, rows, fmt.Sprintf("step %d: Step", t)); err != nil {
		return nil, nil, err
	}
	return logits, next, nil
}

// selectRows calls s.Select and checks the state it returns.
func selectRows(s State, rows []int, t int) (next State, err error) {
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		next, err = s.Select(rows)
	}()
	if panicked != nil {
		return nil, modelf("step %d: State.Select panicked: %v", t, panicked)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "decode: step %d: select", t)
	}
	if err := checkState(next, len(rows), fmt.Sprintf("step %d: Select", t)); err != nil {
		return nil, err
	}
	return next, nil
}

func checkState(s State, want int, who string) error {
	if isNil(s) {
		return modelf("%s returned a nil state", who)
	}
	var n int
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		n = s.Rows()
	}()
	if panicked != nil {
		return modelf("%s returned a state whose Rows panicked: %v", who, panicked)
	}
	if n != want {
		return modelf("%s returned a state of %d rows, want %d", who, n, want)
	}
	return nil
}

// checkRow checks the logits of one row the decoder is about to read: no
// NaN, no +Inf, at least one finite value.
func checkRow(l []float64, row, t int) error {
	finite := false
	for j, x := range l {
		switch {
		case math.IsNaN(x) || math.IsInf(x, 1):
			return modelf("step %d: row %d: logit %d is %v", t, row, j, x)
		case !math.IsInf(x, -1):
			finite = true
		}
	}
	if !finite {
		return modelf("step %d: row %d: every logit is -Inf", t, row)
	}
	return nil
}

// argmax returns the index of the largest value, the lowest index among
// equals; −1 if every value is −Inf or NaN.
func argmax(x []float64) int {
	best := -1
	for j, v := range x {
		if v > math.Inf(-1) && (best < 0 || v > x[best]) {
			best = j
		}
	}
	return best
}

// LogSoftmax returns log(softmax(x)) in a new slice, computed stably
// (the maximum is subtracted first). −Inf entries give −Inf. If every entry
// is −Inf the result is all −Inf; if some entries are +Inf, they share the
// probability equally and the others get −Inf. A NaN entry makes the whole
// result NaN. An empty x gives an empty result.
func LogSoftmax(x []float64) []float64 {
	out := make([]float64, len(x))
	logSoftmaxInto(out, x)
	return out
}

func logSoftmaxInto(out, x []float64) {
	max := math.Inf(-1)
	for _, v := range x {
		if math.IsNaN(v) {
			for i := range out {
				out[i] = math.NaN()
			}
			return
		}
		if v > max {
			max = v
		}
	}
	switch {
	case math.IsInf(max, -1):
		for i := range out {
			out[i] = math.Inf(-1)
		}
		return
	case math.IsInf(max, 1):
		k := 0
		for _, v := range x {
			if math.IsInf(v, 1) {
				k++
			}
		}
		l := -math.Log(float64(k))
		for i, v := range x {
			if math.IsInf(v, 1) {
				out[i] = l
			} else {
				out[i] = math.Inf(-1)
			}
		}
		return
	}
	sum := 0.0
	for _, v := range x {
		sum += math.Exp(v - max)
	}
	ls := math.Log(sum)
	for i, v := range x {
		out[i] = (v - max) - ls
	}
}
