package birnn

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// LayerConfigs returns the configs of the forward and backward cells of
// bidirectional layer `layer` of the given kind, named as PyTorch names
// them: prefix+"weight_ih_l{layer}" and prefix+"weight_ih_l{layer}_reverse",
// and so on. The configs are validated when used (Config.Init, cells.New).
func LayerConfigs(kind cells.Kind, input, hidden, layer int, prefix string) (fwd, bwd cells.Config) {
	fwd = cells.Config{Kind: kind, InputSize: input, HiddenSize: hidden, Layer: layer, Prefix: prefix}
	bwd = fwd
	bwd.Reverse = true
	return fwd, bwd
}

// StackConfigs returns the 2·layers cell configs of a stacked bidirectional
// encoder, in PyTorch's order (index layer·2 + direction): layer 0 takes
// inputs of size input, every later layer 2·hidden. Create the parameters
// with Config.Init on each, then bind them with [NewStack].
func StackConfigs(kind cells.Kind, input, hidden, layers int, prefix string) []cells.Config {
	var out []cells.Config
	for k := 0; k < layers; k++ {
		in := input
		if k > 0 {
			in = 2 * hidden
		}
		f, b := LayerConfigs(kind, in, hidden, k, prefix)
		out = append(out, f, b)
	}
	return out
}

// Stacked is a stack of bidirectional layers, each an [Encoder] with merge
// Concat, as torch.nn.LSTM(bidirectional=True, num_layers=L): layer k > 0
// consumes layer k−1's concatenated outputs.
type Stacked struct {
	layers        []*Encoder
	input, hidden int
}

// NewStack binds a stack of `layers` bidirectional layers of one cell kind
// into g from parameters that already exist in g's Params, named as
// [StackConfigs] names them.
func NewStack(g *graph.Graph, kind cells.Kind, input, hidden, layers int, prefix string) (*Stacked, error) {
	if g == nil {
		return nil, errors.Wrap(ErrConfig, "birnn: stack: nil graph")
	}
	if layers <= 0 {
		return nil, errors.Wrapf(ErrConfig, "birnn: stack: %d layers, want at least 1", layers)
	}
	cfgs := StackConfigs(kind, input, hidden, layers, prefix)
	s := &Stacked{layers: make([]*Encoder, layers), input: input, hidden: hidden}
	for k := range s.layers {
		f, err := cells.New(g, cfgs[2*k])
		if err != nil {
			return nil, errors.Wrapf(err, "birnn: stack: layer %d forward", k)
		}
		b, err := cells.New(g, cfgs[2*k+1])
		if err != nil {
			return nil, errors.Wrapf(err, "birnn: stack: layer %d backward", k)
		}
		if s.layers[k], err = New(f, b, Concat); err != nil {
			return nil, errors.Wrapf(err, "birnn: stack: layer %d", k)
		}
	}
	return s, nil
}

// Depth returns the number of bidirectional layers.
func (s *Stacked) Depth() int {
	if s == nil {
		return 0
	}
	return len(s.layers)
}

// InputSize returns the size of each input vector.
func (s *Stacked) InputSize() int {
	if s == nil {
		return 0
	}
	return s.input
}

// OutputSize returns the size of each output vector, 2·hidden.
func (s *Stacked) OutputSize() int {
	if s == nil {
		return 0
	}
	return 2 * s.hidden
}

// Encode runs the stack over xs (each [B, input]); masks, nil or one [B]
// node per step, make a padded batch as in [Encoder.Encode]. s0 is nil
// (zeros) or holds 2·Depth() initial states in PyTorch's h_n order, index
// layer·2 + direction, any of which may be nil (zeros). It returns the top
// layer's outputs, each [B, 2·hidden], and the 2·Depth() final states in
// the same order.
func (s *Stacked) Encode(xs, masks []*gorgonia.Node, s0 []cells.State) (outs []*gorgonia.Node, finals []cells.State, err error) {
	if s == nil || len(s.layers) == 0 {
		return nil, nil, errors.Wrap(ErrConfig, "birnn: stack not built with NewStack")
	}
	if s0 != nil && len(s0) != 2*len(s.layers) {
		return nil, nil, errors.Wrapf(ErrInput, "birnn: stack: %d initial states, want %d (2 per layer)", len(s0), 2*len(s.layers))
	}
	finals = make([]cells.State, 2*len(s.layers))
	in := xs
	for k, enc := range s.layers {
		var sf, sb cells.State
		if s0 != nil {
			sf, sb = s0[2*k], s0[2*k+1]
		}
		if in, finals[2*k], finals[2*k+1], err = enc.Encode(in, masks, sf, sb); err != nil {
			return nil, nil, errors.Wrapf(err, "birnn: stack: layer %d", k)
		}
	}
	return in, finals, nil
}

// EncodeSeq is Encode over a whole batch held time-major in one matrix,
// x [T·B, input], each layer and direction one fused node (see
// [Encoder.EncodeSeq]); mask is nil or [T·B]. It returns the top layer's
// outputs [T·B, 2·hidden] and the final states as Encode does.
func (s *Stacked) EncodeSeq(x *gorgonia.Node, batch int, mask *gorgonia.Node, s0 []cells.State) (out *gorgonia.Node, finals []cells.State, err error) {
	if s == nil || len(s.layers) == 0 {
		return nil, nil, errors.Wrap(ErrConfig, "birnn: stack not built with NewStack")
	}
	if s0 != nil && len(s0) != 2*len(s.layers) {
		return nil, nil, errors.Wrapf(ErrInput, "birnn: stack: %d initial states, want %d (2 per layer)", len(s0), 2*len(s.layers))
	}
	finals = make([]cells.State, 2*len(s.layers))
	out = x
	for k, enc := range s.layers {
		var sf, sb cells.State
		if s0 != nil {
			sf, sb = s0[2*k], s0[2*k+1]
		}
		if out, finals[2*k], finals[2*k+1], err = enc.EncodeSeq(out, batch, mask, sf, sb); err != nil {
			return nil, nil, errors.Wrapf(err, "birnn: stack: layer %d", k)
		}
	}
	return out, finals, nil
}
