package seq2seq_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/seq2seq"
)

// Build an attention Seq2Seq model, train it for a few steps with teacher
// forcing, and decode greedily and by beam search.
func Example() {
	const bos, eos = 0, 1 // token 0 starts the decoder, 1 ends a target
	cfg := seq2seq.Config{Vocab: 6, Embed: 8, Hidden: 16, Cell: cells.GRUKind,
		Decoder: seq2seq.Attention, Score: seq2seq.General}
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		panic(err)
	}
	if err := cfg.Init(ps, graph.NewSource(1)); err != nil {
		panic(err)
	}

	// One graph for batches of 2 sources of up to 3 tokens, targets of up to 3.
	m, err := seq2seq.NewTrainGraph(ps, cfg, 2, 3, 3)
	if err != nil {
		panic(err)
	}
	batch := seq2seq.Batch{
		Src: [][]int{{2, 3, 4}, {5, 2, 0}}, SrcLen: []int{3, 2}, // the second source is padded
		TgtIn: [][]int{{bos, 4, 3}, {bos, 2, 5}}, TgtOut: [][]int{{4, 3, eos}, {2, 5, eos}}, TgtLen: []int{3, 3},
	}
	if err := m.Set(batch); err != nil {
		panic(err)
	}
	params := m.G.Learnables()
	if _, err := gorgonia.Grad(m.Loss, params...); err != nil {
		panic(err)
	}
	vm, err := graph.NewMachine(m.G, gorgonia.BindDualValues(params...))
	if err != nil {
		panic(err)
	}
	defer vm.Close()
	solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.05))
	for i := 0; i < 100; i++ {
		if err := graph.Run(vm); err != nil {
			panic(err)
		}
		if err := solver.Step(gorgonia.NodesToValueGrads(params)); err != nil {
			panic(err)
		}
		vm.Reset()
	}

	// Generation: the encoder once, then a one-step decoder graph in a loop.
	gen, err := seq2seq.NewGenerator(ps, cfg)
	if err != nil {
		panic(err)
	}
	defer gen.Close()
	s0, err := gen.Encode([][]int{{2, 3, 4}, {5, 2}})
	if err != nil {
		panic(err)
	}
	opt := decode.Options{BOS: bos, EOS: eos, MaxLen: 5}
	greedy, err := decode.Greedy(gen, s0, opt)
	if err != nil {
		panic(err)
	}
	beams, err := decode.Beam(gen, s0, opt, decode.BeamOptions{Width: 3})
	if err != nil {
		panic(err)
	}
	fmt.Println("greedy:", greedy)
	fmt.Println("beam:  ", beams[0][0].Tokens, beams[1][0].Tokens)
	// Output:
	// greedy: [[4 3] [2 5]]
	// beam:   [4 3] [2 5]
}
