// Package rows moves a decoder's per-row state between Go slices and graph
// nodes, for the generators of models/seq2seq, lm, vae and hred: a state
// tensor is held as [rows][width]float64 so that beam search can select,
// reorder and copy rows; a step's logits come back as rows too.
package rows

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Matrix is one state tensor, row by row.
type Matrix [][]float64

// Select returns a copy of m whose row i is m's row idx[i] (nil for nil).
func Select(m Matrix, idx []int) (Matrix, error) {
	if m == nil {
		return nil, nil
	}
	out := make(Matrix, len(idx))
	for i, r := range idx {
		if r < 0 || r >= len(m) {
			return nil, errors.Errorf("rows: select row %d of %d", r, len(m))
		}
		out[i] = append([]float64(nil), m[r]...)
	}
	return out, nil
}

// SelectAll applies Select to every matrix.
func SelectAll(ms []Matrix, idx []int) ([]Matrix, error) {
	out := make([]Matrix, len(ms))
	for k, m := range ms {
		var err error
		if out[k], err = Select(m, idx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Identity returns 0, 1, …, n−1.
func Identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// FromValues reads each value (a [rows, width] tensor after a run) as a Matrix.
func FromValues(vals []gorgonia.Value, rows, width int) ([]Matrix, error) {
	out := make([]Matrix, len(vals))
	for k, v := range vals {
		f, err := graph.ValueFloat64s(v)
		if err != nil {
			return nil, err
		}
		if len(f) != rows*width {
			return nil, errors.Errorf("rows: value %d has %d elements, want %d×%d", k, len(f), rows, width)
		}
		out[k] = make(Matrix, rows)
		for r := range out[k] {
			out[k][r] = append([]float64(nil), f[r*width:(r+1)*width]...)
		}
	}
	return out, nil
}

// Set gives the [rows, width] input node n the values of m. It writes the
// rows straight into n's float32 or float64 tensor, as graph.Set would
// write them flattened (the same conversion, the same errors, nothing
// written when a value is not finite), without the flattened copy.
func Set(n *gorgonia.Node, m Matrix) error {
	s := n.Shape()
	if len(s) != 2 || len(m) != s[0] {
		return errors.Errorf("rows: %d rows for a node of shape %v", len(m), s)
	}
	for _, row := range m {
		if len(row) != s[1] {
			return errors.Errorf("rows: a row of %d values for width %d", len(row), s[1])
		}
	}
	t, ok := n.Value().(*tensor.Dense)
	if !ok || t.RequiresIterator() || t.Shape().TotalSize() != s[0]*s[1] {
		return setFlat(n, m)
	}
	switch d := t.Data().(type) {
	case []float32:
		if err := finite(n, m); err != nil {
			return err
		}
		for r, row := range m {
			dst := d[r*s[1] : (r+1)*s[1]]
			for j, v := range row {
				dst[j] = float32(v)
			}
		}
	case []float64:
		if err := finite(n, m); err != nil {
			return err
		}
		for r, row := range m {
			copy(d[r*s[1]:(r+1)*s[1]], row)
		}
	default:
		return setFlat(n, m)
	}
	return nil
}

// finite returns graph.Set's error for the first value of m that is NaN or
// infinite, nil when all are finite.
func finite(n *gorgonia.Node, m Matrix) error {
	for r, row := range m {
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.Errorf("graph: setting %s: element %d is %v", n.Name(), r*len(row)+j, v)
			}
		}
	}
	return nil
}

// setFlat sets n through graph.Set, from m flattened: the definition Set
// follows, and its path for values that are not a contiguous float tensor.
func setFlat(n *gorgonia.Node, m Matrix) error {
	var flat []float64
	for _, row := range m {
		flat = append(flat, row...)
	}
	return graph.Set(n, flat)
}

// Logits returns a step's logits value [n·V] as n rows of V, sharing its
// memory (float64, as graph.ValueFloat64s gives it).
func Logits(v gorgonia.Value, n, V int) ([][]float64, error) {
	lv, err := graph.ValueFloat64s(v)
	if err != nil {
		return nil, err
	}
	if len(lv) != n*V {
		return nil, errors.Errorf("rows: %d logits, want %d rows of %d", len(lv), n, V)
	}
	logits := make([][]float64, n)
	for r := range logits {
		logits[r] = lv[r*V : (r+1)*V]
	}
	return logits, nil
}
