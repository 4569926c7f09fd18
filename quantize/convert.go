package quantize

import (
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/qgemm"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// Quantizable reports whether a parameter is stored in int8: every matrix
// (two dimensions) — the embedding tables, the recurrent layers'
// weight_ih and weight_hh, the linear layers' weights. Vectors (biases,
// peephole weights) stay float32.
func Quantizable(name string, shape []int) bool { return len(shape) == 2 }

// FromCheckpoint makes the int8 file of a float checkpoint: every
// Quantizable parameter quantized per row (qgemm.QuantizeWeights), the
// others kept in float32; the metadata kept, the optimiser state left out.
func FromCheckpoint(c *checkpoint.Checkpoint) (*File, error) { return convert(c, true) }

// KeepFloat makes a File of a float checkpoint with nothing quantized:
// every parameter in float32. The int8 engine (NewLM) runs it with the
// float32 GEMM — the same code as the int8 model but for the products.
func KeepFloat(c *checkpoint.Checkpoint) (*File, error) { return convert(c, false) }

func convert(c *checkpoint.Checkpoint, quantize bool) (*File, error) {
	if c == nil || c.Params == nil {
		return nil, errors.New("quantize: a checkpoint without parameters")
	}
	f := &File{Meta: c.Meta, Int8: map[string]*qgemm.Weights{}, Float: map[string]Tensor{}}
	switch c.Params.Dtype() {
	case tensor.Float32:
		f.ParamsDtype = "F32"
	case tensor.Float64:
		f.ParamsDtype = "F64"
	default:
		return nil, errors.Errorf("quantize: parameters of dtype %v", c.Params.Dtype())
	}
	for _, name := range c.Params.Names() {
		t, _ := c.Params.Get(name)
		if strings.HasSuffix(name, ScaleSuffix) {
			return nil, errors.Errorf("quantize: parameter %q ends in %q, the suffix of the scales", name, ScaleSuffix)
		}
		shape := []int(t.Shape())
		v64, err := graph.Float64s(t)
		if err != nil {
			return nil, errors.Wrapf(err, "quantize: parameter %q", name)
		}
		v := make([]float32, len(v64))
		for i, x := range v64 {
			v[i] = float32(x)
		}
		f.Names = append(f.Names, name)
		if quantize && Quantizable(name, shape) {
			w, err := qgemm.QuantizeWeights(v, shape[0], shape[1])
			if err != nil {
				return nil, errors.Wrapf(err, "quantize: parameter %q", name)
			}
			f.Int8[name] = w
			continue
		}
		f.Float[name] = Tensor{Shape: append([]int(nil), shape...), Data: v}
	}
	return f, nil
}

// Checkpoint returns the float checkpoint the file stands for: the int8
// matrices dequantized (Scale[n]·Q[n][k]), in the original dtype, with the
// metadata. A model built from it computes in float what the int8 weights
// say (weight-only quantization): used where no int8 engine exists.
func (f *File) Checkpoint() (*checkpoint.Checkpoint, error) {
	dt := tensor.Float32
	if f.ParamsDtype == "F64" {
		dt = tensor.Float64
	}
	ps, err := graph.NewParams(dt)
	if err != nil {
		return nil, err
	}
	for _, name := range f.Names {
		var shape []int
		var v []float32
		if w, ok := f.Int8[name]; ok {
			shape, v = []int{w.N, w.K}, w.Dequantize()
		} else {
			t := f.Float[name]
			shape, v = t.Shape, t.Data
		}
		if _, err := ps.New(name, shape...); err != nil {
			return nil, errors.Wrapf(err, "quantize: parameter %q", name)
		}
		v64 := make([]float64, len(v))
		for i, x := range v {
			v64[i] = float64(x)
		}
		if err := ps.SetFloat64s(name, v64); err != nil {
			return nil, errors.Wrapf(err, "quantize: parameter %q", name)
		}
	}
	return &checkpoint.Checkpoint{Meta: f.Meta, Params: ps}, nil
}

// Bytes returns the number of bytes of the parameters: int8 values and
// their scales, float32 vectors.
func (f *File) Bytes() int {
	n := 0
	for _, w := range f.Int8 {
		n += len(w.Q) + 4*len(w.Scale)
	}
	for _, t := range f.Float {
		n += 4 * len(t.Data)
	}
	return n
}
