package parity

import (
	"fmt"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/fixture"
	"github.com/rnnkit/rnnkit/models/transformer"
)

// transformerCases are the Transformer fixture cases of the shared schema.
var transformerCases = map[string]func(*fixture.File, bool) (Result, error){
	"transformer_encoder_layer": runEncoderLayer,
	"transformer_decoder_layer": runDecoderLayer,
	"transformer_seq2seq":       runTransformerSeq2Seq,
}

func transformerCaseNames() []string {
	var out []string
	for k := range transformerCases {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// layerConfig reads E, nhead, F, activation and norm_first from the dims.
func layerConfig(f *fixture.File) (transformer.LayerConfig, error) {
	var c transformer.LayerConfig
	var err error
	if c.Embed, err = f.Dim("E"); err != nil {
		return c, err
	}
	if c.Heads, err = f.Dim("nhead"); err != nil {
		return c, err
	}
	if c.FF, err = f.Dim("F"); err != nil {
		return c, err
	}
	c.Activation = transformer.ReLU
	if a, ok := f.Options["activation"]; ok {
		c.Activation = transformer.Activation(a)
	}
	switch v, ok := f.Options["norm_first"]; {
	case !ok:
		if n, ok := f.Dims["norm_first"]; ok {
			c.NormFirst = n != 0
		}
	case v == "true" || v == "True":
		c.NormFirst = true
	case v == "false" || v == "False":
	default:
		return c, errors.Wrapf(fixture.ErrFormat, "dims.norm_first = %q", v)
	}
	if err := c.Validate(); err != nil {
		return c, errors.Wrap(fixture.ErrFormat, err.Error())
	}
	return c, nil
}

// loadTransformerParams adds every parameter of specs from the fixture to a new
// float64 Params and refuses a fixture parameter the model does not have.
func loadTransformerParams(f *fixture.File, specs []transformer.ParamSpec, what string) (*graph.Params, error) {
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		return nil, err
	}
	for _, p := range specs {
		t, err := fixture.Want("params", f.Params, p.Name, p.Shape...)
		if err != nil {
			return nil, err
		}
		v, err := graph.FromFloat64s(tensor.Float64, t.Data, p.Shape...)
		if err != nil {
			return nil, err
		}
		if err := ps.Add(p.Name, v); err != nil {
			return nil, err
		}
	}
	for name := range f.Params {
		if _, ok := ps.Get(name); !ok {
			return nil, errors.Wrapf(fixture.ErrFormat, "params: %q is not a parameter of %s", name, what)
		}
	}
	return ps, nil
}

// toBatchMajor reorders [T, B, E] (sequence-first, PyTorch's) into
// [B, T, E]; fromBatchMajor is its inverse.
func toBatchMajor(x []float64, T, B, E int) []float64 {
	out := make([]float64, len(x))
	for t := 0; t < T; t++ {
		for b := 0; b < B; b++ {
			copy(out[(b*T+t)*E:(b*T+t+1)*E], x[(t*B+b)*E:(t*B+b+1)*E])
		}
	}
	return out
}

func fromBatchMajor(x []float64, T, B, E int) []float64 {
	out := make([]float64, len(x))
	for t := 0; t < T; t++ {
		for b := 0; b < B; b++ {
			copy(out[(t*B+b)*E:(t*B+b+1)*E], x[(b*T+t)*E:(b*T+t+1)*E])
		}
	}
	return out
}

// optional returns inputs[name]'s data checked against shape, or nil
// where the fixture has no such input.
func optional(f *fixture.File, name string, shape ...int) ([]float64, error) {
	if _, ok := f.Inputs[name]; !ok {
		return nil, nil
	}
	t, err := fixture.Want("inputs", f.Inputs, name, shape...)
	return t.Data, err
}

// layerReads is what a layer case's graph reads.
type layerReads struct {
	loss, out gorgonia.Value
	grads     map[string]*gorgonia.Value
}

// runLayerGraph builds one layer's graph (layer builds the output from the
// inputs named in ins), the loss Σ output ⊙ R and its gradients with
// respect to every parameter and input, runs it and compares.
func runLayerGraph(f *fixture.File, ps *graph.Params, specs []transformer.ParamSpec, fused bool,
	ins []layerInput, outT, B, E int, layer func(n *transformer.Net, in map[string]*gorgonia.Node) (*gorgonia.Node, error)) (Result, error) {
	R := f.Loss.R
	if R == nil {
		return Result{}, errors.Wrap(fixture.ErrFormat, "loss: missing R")
	}
	if _, err := fixture.Want("loss", map[string]fixture.Tensor{"R": *R}, "R", outT, B, E); err != nil {
		return Result{}, err
	}
	g, r, err := graph.Build(ps, func(g *graph.Graph) (*layerReads, error) {
		n, err := transformer.NewNet(g, nil, fused)
		if err != nil {
			return nil, err
		}
		nodes := map[string]*gorgonia.Node{}
		var wrtIn []*gorgonia.Node
		for _, in := range ins {
			if in.data == nil {
				continue
			}
			if nodes[in.name], err = input(g, in.name, in.data, in.shape...); err != nil {
				return nil, err
			}
			if in.grad {
				wrtIn = append(wrtIn, nodes[in.name])
			}
		}
		out, err := layer(n, nodes)
		if err != nil {
			return nil, err
		}
		rn, err := input(g, "R", toBatchMajor(R.Data, outT, B, E), B*outT, E)
		if err != nil {
			return nil, err
		}
		p, err := gorgonia.HadamardProd(out, rn)
		if err != nil {
			return nil, err
		}
		loss, err := graph.Sum(p)
		if err != nil {
			return nil, err
		}
		wrt := append(g.Learnables(), wrtIn...)
		grads, err := gorgonia.Grad(loss, wrt...)
		if err != nil {
			return nil, errors.Wrap(err, "parity: symbolic gradient")
		}
		r := &layerReads{grads: map[string]*gorgonia.Value{}}
		gorgonia.Read(loss, &r.loss)
		gorgonia.Read(out, &r.out)
		vals := make([]gorgonia.Value, len(grads))
		for i, w := range wrt {
			gorgonia.Read(grads[i], &vals[i])
			r.grads[w.Name()] = &vals[i]
		}
		return r, nil
	})
	if err != nil {
		return Result{}, err
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		return Result{}, err
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		return Result{}, err
	}
	res := Result{Name: f.Name, Case: f.Case}
	get := func(v gorgonia.Value) []float64 { out, _ := graph.ValueFloat64s(v); return out }
	if err := res.compare(false, "loss", fixture.Tensor{Shape: []int{1}, Data: []float64{f.Loss.Value}}, get(r.loss)); err != nil {
		return res, err
	}
	want, err := fixture.Want("outputs", f.Outputs, "output", outT, B, E)
	if err != nil {
		return res, err
	}
	out := get(r.out)
	if len(out) == want.Size() {
		out = fromBatchMajor(out, outT, B, E)
	}
	if err := res.compare(false, "output", want, out); err != nil {
		return res, err
	}
	if err := compareParamGrads(&res, f, specs, r.grads); err != nil {
		return res, err
	}
	for _, in := range ins {
		if !in.grad || in.data == nil {
			continue
		}
		want, err := fixture.Want("grads", f.Grads.Other, in.name, in.T, B, E)
		if err != nil {
			return res, err
		}
		var got []float64
		if v, ok := r.grads[in.name]; ok {
			got = fromBatchMajor(get(*v), in.T, B, E)
		}
		if err := res.compare(true, "d"+in.name, want, got); err != nil {
			return res, err
		}
	}
	return res, nil
}

// compareParamGrads compares every parameter's gradient (zero for one the
// loss does not reach).
func compareParamGrads(res *Result, f *fixture.File, specs []transformer.ParamSpec, grads map[string]*gorgonia.Value) error {
	for _, p := range specs {
		want, err := fixture.Want("grads.params", f.Grads.Params, p.Name, p.Shape...)
		if err != nil {
			return err
		}
		got := make([]float64, want.Size())
		if v, ok := grads[p.Name]; ok {
			got, _ = graph.ValueFloat64s(*v)
		}
		if err := res.compare(true, "d"+p.Name, want, got); err != nil {
			return err
		}
	}
	return nil
}

// layerInput is an input node of a layer case: its batch-major data and
// shape, its sequence length, and whether its gradient is compared.
type layerInput struct {
	name  string
	data  []float64
	shape []int
	T     int
	grad  bool
}

func runEncoderLayer(f *fixture.File, fused bool) (Result, error) {
	c, err := layerConfig(f)
	if err != nil {
		return Result{}, err
	}
	T, err := f.Dim("T")
	if err != nil {
		return Result{}, err
	}
	B, err := f.Dim("B")
	if err != nil {
		return Result{}, err
	}
	E := c.Embed
	specs := c.EncoderParams("")
	ps, err := loadTransformerParams(f, specs, "an encoder layer")
	if err != nil {
		return Result{}, err
	}
	src, err := fixture.Want("inputs", f.Inputs, "src", T, B, E)
	if err != nil {
		return Result{}, err
	}
	pad, err := optional(f, "src_key_padding_mask", B, T)
	if err != nil {
		return Result{}, err
	}
	srcMask, err := optional(f, "src_mask", T, T) // not in the shared schema; PyTorch's float attn_mask
	if err != nil {
		return Result{}, err
	}
	keep, err := transformer.KeepMask(B, T, T, false, srcMask, pad)
	if err != nil {
		return Result{}, errors.Wrap(err, "inputs.src_mask / src_key_padding_mask")
	}
	ins := []layerInput{
		{name: "src", data: toBatchMajor(src.Data, T, B, E), shape: []int{B * T, E}, T: T, grad: true},
		{name: "keep", data: keep, shape: []int{B * T, T}},
	}
	return runLayerGraph(f, ps, specs, fused, ins, T, B, E, func(n *transformer.Net, in map[string]*gorgonia.Node) (*gorgonia.Node, error) {
		return n.EncoderLayer(in["src"], in["keep"], "", c, B)
	})
}

func runDecoderLayer(f *fixture.File, fused bool) (Result, error) {
	c, err := layerConfig(f)
	if err != nil {
		return Result{}, err
	}
	var Tt, Ts, B int
	for _, d := range []struct {
		name string
		dst  *int
	}{{"Tt", &Tt}, {"Ts", &Ts}, {"B", &B}} {
		if *d.dst, err = f.Dim(d.name); err != nil {
			return Result{}, err
		}
	}
	E := c.Embed
	specs := c.DecoderParams("")
	ps, err := loadTransformerParams(f, specs, "a decoder layer")
	if err != nil {
		return Result{}, err
	}
	tgt, err := fixture.Want("inputs", f.Inputs, "tgt", Tt, B, E)
	if err != nil {
		return Result{}, err
	}
	mem, err := fixture.Want("inputs", f.Inputs, "memory", Ts, B, E)
	if err != nil {
		return Result{}, err
	}
	attn, err := optional(f, "tgt_mask", Tt, Tt)
	if err != nil {
		return Result{}, err
	}
	tgtPad, err := optional(f, "tgt_key_padding_mask", B, Tt)
	if err != nil {
		return Result{}, err
	}
	memPad, err := optional(f, "memory_key_padding_mask", B, Ts)
	if err != nil {
		return Result{}, err
	}
	selfKeep, err := transformer.KeepMask(B, Tt, Tt, false, attn, tgtPad)
	if err != nil {
		return Result{}, errors.Wrap(err, "inputs.tgt_mask / tgt_key_padding_mask")
	}
	memMask, err := optional(f, "memory_mask", Tt, Ts) // not in the shared schema; PyTorch's float attn_mask
	if err != nil {
		return Result{}, err
	}
	memKeep, err := transformer.KeepMask(B, Tt, Ts, false, memMask, memPad)
	if err != nil {
		return Result{}, errors.Wrap(err, "inputs.memory_mask / memory_key_padding_mask")
	}
	ins := []layerInput{
		{name: "tgt", data: toBatchMajor(tgt.Data, Tt, B, E), shape: []int{B * Tt, E}, T: Tt, grad: true},
		{name: "memory", data: toBatchMajor(mem.Data, Ts, B, E), shape: []int{B * Ts, E}, T: Ts, grad: true},
		{name: "self_keep", data: selfKeep, shape: []int{B * Tt, Tt}},
		{name: "mem_keep", data: memKeep, shape: []int{B * Tt, Ts}},
	}
	return runLayerGraph(f, ps, specs, fused, ins, Tt, B, E, func(n *transformer.Net, in map[string]*gorgonia.Node) (*gorgonia.Node, error) {
		return n.DecoderLayer(in["tgt"], in["memory"], in["self_keep"], in["mem_keep"], "", c, B)
	})
}

// idsBatchMajor reads a [T, B] id tensor into batch-major ints.
func idsBatchMajor(t fixture.Tensor, T, B int) ([]int, error) {
	out := make([]int, T*B)
	for i, v := range t.Data {
		if v != float64(int(v)) {
			return nil, errors.Wrapf(fixture.ErrFormat, "token id %v is not an integer", v)
		}
		tt, b := i/B, i%B
		out[b*T+tt] = int(v)
	}
	return out, nil
}

func runTransformerSeq2Seq(f *fixture.File, fused bool) (Result, error) {
	c, err := layerConfig(f)
	if err != nil {
		return Result{}, err
	}
	cfg := transformer.Config{Layer: c}
	var Ts, Tt, B int
	for _, d := range []struct {
		name string
		dst  *int
	}{{"Ts", &Ts}, {"Tt", &Tt}, {"B", &B}, {"V", &cfg.Vocab}, {"num_encoder_layers", &cfg.EncoderLayers}, {"num_decoder_layers", &cfg.DecoderLayers}} {
		if *d.dst, err = f.Dim(d.name); err != nil {
			return Result{}, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return Result{}, errors.Wrap(fixture.ErrFormat, err.Error())
	}
	E, V := c.Embed, cfg.Vocab
	specs := cfg.Params()
	ps, err := loadTransformerParams(f, specs, fmt.Sprintf("a %d+%d-layer Seq2Seq Transformer", cfg.EncoderLayers, cfg.DecoderLayers))
	if err != nil {
		return Result{}, err
	}
	srcT, err := fixture.Want("inputs", f.Inputs, "src", Ts, B)
	if err != nil {
		return Result{}, err
	}
	tgtT, err := fixture.Want("inputs", f.Inputs, "tgt", Tt+1, B)
	if err != nil {
		return Result{}, err
	}
	src, err := idsBatchMajor(srcT, Ts, B)
	if err != nil {
		return Result{}, err
	}
	tgt, err := idsBatchMajor(tgtT, Tt+1, B)
	if err != nil {
		return Result{}, err
	}
	decIn, labels := make([]int, B*Tt), make([]int, B*Tt)
	for b := 0; b < B; b++ {
		copy(decIn[b*Tt:(b+1)*Tt], tgt[b*(Tt+1):b*(Tt+1)+Tt])
		copy(labels[b*Tt:(b+1)*Tt], tgt[b*(Tt+1)+1:(b+1)*(Tt+1)])
	}
	type reads struct {
		loss  gorgonia.Value
		outs  []gorgonia.Value // memory, dec_out, logits
		grads map[string]*gorgonia.Value
	}
	g, r, err := graph.Build(ps, func(g *graph.Graph) (*reads, error) {
		n, err := transformer.NewNet(g, nil, fused)
		if err != nil {
			return nil, err
		}
		n.Logits = true // read beside the fused loss
		s, err := transformer.BuildSeq2Seq(n, cfg, B, Ts, Tt)
		if err != nil {
			return nil, err
		}
		if err := s.Set(src, nil, decIn, labels, nil); err != nil {
			return nil, err
		}
		wrt := g.Learnables()
		grads, err := gorgonia.Grad(s.Loss, wrt...)
		if err != nil {
			return nil, errors.Wrap(err, "parity: symbolic gradient")
		}
		r := &reads{outs: make([]gorgonia.Value, 3), grads: map[string]*gorgonia.Value{}}
		gorgonia.Read(s.Loss, &r.loss)
		for i, x := range []*gorgonia.Node{s.Memory, s.DecOut, s.Logits} {
			gorgonia.Read(x, &r.outs[i])
		}
		vals := make([]gorgonia.Value, len(grads))
		for i, w := range wrt {
			gorgonia.Read(grads[i], &vals[i])
			r.grads[w.Name()] = &vals[i]
		}
		return r, nil
	})
	if err != nil {
		return Result{}, err
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		return Result{}, err
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		return Result{}, err
	}
	res := Result{Name: f.Name, Case: f.Case}
	get := func(v gorgonia.Value) []float64 { out, _ := graph.ValueFloat64s(v); return out }
	if err := res.compare(false, "loss", fixture.Tensor{Shape: []int{1}, Data: []float64{f.Loss.Value}}, get(r.loss)); err != nil {
		return res, err
	}
	for i, o := range []struct {
		name string
		T, W int
	}{{"memory", Ts, E}, {"dec_out", Tt, E}, {"logits", Tt, V}} {
		want, err := fixture.Want("outputs", f.Outputs, o.name, o.T, B, o.W)
		if err != nil {
			return res, err
		}
		got := get(r.outs[i])
		if len(got) == want.Size() {
			got = fromBatchMajor(got, o.T, B, o.W)
		}
		if err := res.compare(false, o.name, want, got); err != nil {
			return res, err
		}
	}
	return res, compareParamGrads(&res, f, specs, r.grads)
}
