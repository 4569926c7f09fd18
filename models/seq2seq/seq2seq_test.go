package seq2seq

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
	"github.com/rnnkit/rnnkit/models/decode"
)

func newParams(t *testing.T, c Config, dt tensor.Dtype, seed uint64) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(seed)); err != nil {
		t.Fatal(err)
	}
	return ps
}

func randomTokens(src graph.Source, n, v int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1 + src.IntN(v-1)
	}
	return out
}

// lossOf builds a TrainGraph for one batch and returns its loss and parameter gradients.
func lossOf(t *testing.T, ps *graph.Params, c Config, b Batch, Ts, Tt int) (float64, [][]float64) {
	t.Helper()
	m, err := NewTrainGraph(ps, c, len(b.Src), Ts, Tt)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set(b); err != nil {
		t.Fatal(err)
	}
	grads, err := gorgonia.Grad(m.Loss, m.G.Learnables()...)
	if err != nil {
		t.Fatal(err)
	}
	var lv gorgonia.Value
	gorgonia.Read(m.Loss, &lv)
	gv := make([]gorgonia.Value, len(grads))
	for i := range grads {
		gorgonia.Read(grads[i], &gv[i])
	}
	vm, err := graph.NewMachine(m.G)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		t.Fatal(err)
	}
	l, _ := graph.ValueFloat64s(lv)
	var gs [][]float64
	for _, v := range gv {
		f, _ := graph.ValueFloat64s(v)
		gs = append(gs, f)
	}
	return l[0], gs
}

// A padded batch's loss is the position-weighted mean of the sequences'
// losses alone, and so are its gradients: padding adds nothing.
func TestPaddedBatchEqualsSequencesAlone(t *testing.T) {
	for i, v := range variants() {
		kind := []cells.Kind{cells.LSTMKind, cells.GRUKind}[i%2]
		c := Config{Vocab: 7, Embed: 3, Hidden: 4, Cell: kind, Layers: 2, Decoder: v.Decoder, Score: v.Score, Bidirectional: v.Bidirectional}
		ps := newParams(t, c, tensor.Float64, 1)
		src := graph.NewSource(2)
		srcLen, tgtLen := []int{4, 2, 1}, []int{1, 3, 2}
		const Ts, Tt = 4, 3
		var b Batch
		var alone []Batch
		N := 0
		for i := range srcLen {
			s, tin, tout := randomTokens(src, Ts, c.Vocab), randomTokens(src, Tt, c.Vocab), randomTokens(src, Tt, c.Vocab)
			b.Src, b.TgtIn, b.TgtOut = append(b.Src, s), append(b.TgtIn, tin), append(b.TgtOut, tout)
			b.SrcLen, b.TgtLen = append(b.SrcLen, srcLen[i]), append(b.TgtLen, tgtLen[i])
			alone = append(alone, Batch{Src: [][]int{s[:srcLen[i]]}, SrcLen: srcLen[i : i+1],
				TgtIn: [][]int{tin[:tgtLen[i]]}, TgtOut: [][]int{tout[:tgtLen[i]]}, TgtLen: tgtLen[i : i+1]})
			N += tgtLen[i]
		}
		loss, grads := lossOf(t, ps, c, b, Ts, Tt)
		want := 0.0
		wantGrads := make([][]float64, len(grads))
		for i, a := range alone {
			l, g := lossOf(t, ps, c, a, srcLen[i], tgtLen[i])
			w := float64(tgtLen[i]) / float64(N)
			want += w * l
			for k := range g {
				if wantGrads[k] == nil {
					wantGrads[k] = make([]float64, len(g[k]))
				}
				for j := range g[k] {
					wantGrads[k][j] += w * g[k][j]
				}
			}
		}
		if math.Abs(loss-want) > 1e-14 {
			t.Fatalf("%s %s: padded loss %v, sequences alone %v", kind, name(c), loss, want)
		}
		for k := range grads {
			for j := range grads[k] {
				if math.Abs(grads[k][j]-wantGrads[k][j]) > 1e-14 {
					t.Fatalf("%s %s: gradient %d[%d]: %v vs %v", kind, name(c), k, j, grads[k][j], wantGrads[k][j])
				}
			}
		}
	}
}

func TestLossGradientsMatchFiniteDifferences(t *testing.T) {
	for _, c := range variants() {
		c.Vocab, c.Embed, c.Hidden, c.Cell, c.Layers = 5, 2, 3, cells.GRUKind, 1
		t.Run(name(c), func(t *testing.T) { lossGradients(t, c) })
	}
}

func lossGradients(t *testing.T, c Config) {
	ps := newParams(t, c, tensor.Float64, 3)
	m, err := NewTrainGraph(ps, c, 2, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Set(Batch{Src: [][]int{{1, 2, 3}, {4, 0, 0}}, SrcLen: []int{3, 1},
		TgtIn: [][]int{{0, 2}, {0, 3}}, TgtOut: [][]int{{2, 4}, {3, 1}}, TgtLen: []int{2, 1}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := gradcheck.Check(m.G, m.Loss, m.G.Learnables(), 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-7 {
		t.Fatalf("max error %g at %s", rep.MaxErr, rep.Worst)
	}
}

// Every decoder variant: the generator's step-by-step logits equal the
// teacher-forced graph's.
func TestGeneratorMatchesTeacherForcing(t *testing.T) {
	for _, c := range variants() {
		t.Run(name(c), func(t *testing.T) { generatorMatches(t, c) })
	}
}

func variants() []Config {
	var out []Config
	for _, v := range []struct {
		d  DecoderKind
		s  Score
		bi bool
	}{{Plain, "", false}, {Peeky, "", false}, {Attention, Dot, false}, {Attention, General, false}, {Attention, Additive, false},
		{Plain, "", true}, {Peeky, "", true}, {Attention, General, true}} {
		out = append(out, Config{Vocab: 9, Embed: 4, Hidden: 5, Cell: cells.LSTMKind, Layers: 2, Decoder: v.d, Score: v.s, Bidirectional: v.bi})
	}
	return out
}

func name(c Config) string {
	n := string(c.decoder()) + "/" + string(c.Score)
	if c.Bidirectional {
		n = "bi/" + n
	}
	return n
}

func generatorMatches(t *testing.T, c Config) {
	ps := newParams(t, c, tensor.Float64, 4)
	src := [][]int{{1, 2, 3, 4}, {5, 6, 0, 0}}
	tin := [][]int{{0, 7, 8}, {0, 1, 2}}
	m, err := NewTrainGraph(ps, c, 2, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set(Batch{Src: src, SrcLen: []int{4, 2}, TgtIn: tin, TgtOut: tin, TgtLen: []int{3, 3}}); err != nil {
		t.Fatal(err)
	}
	lv := readAll(m.Logits)
	vm, _ := graph.NewMachine(m.G)
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		t.Fatal(err)
	}
	gen, err := NewGenerator(ps, c)
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	s, err := gen.Encode([][]int{src[0], src[1][:2]})
	if err != nil {
		t.Fatal(err)
	}
	var st decode.State = s
	for step := 0; step < 3; step++ {
		logits, next, err := gen.Step(st, []int{tin[0][step], tin[1][step]})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := graph.ValueFloat64s(lv[step])
		for r := range logits {
			for j, v := range logits[r] {
				if math.Abs(v-want[r*c.Vocab+j]) > 1e-14 {
					t.Fatalf("step %d row %d: %v vs %v", step, r, v, want[r*c.Vocab+j])
				}
			}
		}
		st = next
	}
}

// Train a small model to reverse sequences, then decode greedily and by
// beam search: the model must get most of them right.
func TestLearnsToReverse(t *testing.T) {
	for _, d := range []DecoderKind{Plain, Attention} {
		t.Run(string(d), func(t *testing.T) {
			learnsToReverse(t, Config{Vocab: 8, Embed: 8, Hidden: 32, Cell: cells.LSTMKind, Decoder: d})
		})
	}
}

func learnsToReverse(t *testing.T, c Config) {
	iters := 400
	if testing.Short() {
		iters = 250
	}
	ps := newParams(t, c, tensor.Float32, 5)
	const B, T = 32, 4
	const bos = 0
	m, err := NewTrainGraph(ps, c, B, T, T+1)
	if err != nil {
		t.Fatal(err)
	}
	params := m.G.Learnables()
	if _, err := gorgonia.Grad(m.Loss, params...); err != nil {
		t.Fatal(err)
	}
	var lossV gorgonia.Value
	gorgonia.Read(m.Loss, &lossV)
	vm, err := graph.NewMachine(m.G, gorgonia.BindDualValues(params...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.02), gorgonia.WithClip(5))
	src := graph.NewSource(6)
	// Tokens 2..7 are symbols, 1 is end of sequence, 0 starts the decoder.
	const eos = 1
	makeBatch := func() Batch {
		var b Batch
		for i := 0; i < B; i++ {
			s := make([]int, T)
			for j := range s {
				s[j] = 2 + src.IntN(6)
			}
			rev := []int{s[3], s[2], s[1], s[0], eos}
			b.Src, b.SrcLen = append(b.Src, s), append(b.SrcLen, T)
			b.TgtIn = append(b.TgtIn, append([]int{bos}, rev[:T]...))
			b.TgtOut, b.TgtLen = append(b.TgtOut, rev), append(b.TgtLen, T+1)
		}
		return b
	}
	var first, last float64
	for it := 0; it < iters; it++ {
		if err := m.Set(makeBatch()); err != nil {
			t.Fatal(err)
		}
		if err := graph.Run(vm); err != nil {
			t.Fatal(err)
		}
		l, _ := graph.ValueFloat64s(lossV)
		if it == 0 {
			first = l[0]
		}
		last = l[0]
		if err := solver.Step(gorgonia.NodesToValueGrads(params)); err != nil {
			t.Fatal(err)
		}
		vm.Reset()
	}
	if !(last < first/4) {
		t.Fatalf("loss %v → %v: not learning", first, last)
	}
	gen, err := NewGenerator(ps, c)
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	test := makeBatch()
	s0, err := gen.Encode(test.Src)
	if err != nil {
		t.Fatal(err)
	}
	opt := decode.Options{BOS: bos, EOS: eos, MaxLen: T + 2}
	greedy, err := decode.Greedy(gen, s0, opt)
	if err != nil {
		t.Fatal(err)
	}
	beams, err := decode.Beam(gen, s0, opt, decode.BeamOptions{Width: 3})
	if err != nil {
		t.Fatal(err)
	}
	if c.decoder() == Attention {
		// The weights after a step are a distribution over the source.
		_, next, err := gen.Step(s0, make([]int, B))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range next.(*State).Attention {
			sum := 0.0
			for _, a := range row {
				sum += a
			}
			if len(row) != T || math.Abs(sum-1) > 1e-5 {
				t.Fatalf("attention row %v", row)
			}
		}
	}
	right, beamRight := 0, 0
	for i := range greedy {
		want := test.TgtOut[i][:T]
		if equal(greedy[i], want) {
			right++
		}
		if equal(beams[i][0].Tokens, want) {
			beamRight++
		}
	}
	t.Logf("loss %.3f → %.3f; greedy %d/%d, beam %d/%d exact", first, last, right, B, beamRight, B)
	if right < B*3/4 || beamRight < B*3/4 {
		t.Fatalf("greedy %d/%d, beam %d/%d reversed exactly", right, B, beamRight, B)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadInput(t *testing.T) {
	c := Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.LSTMKind}
	ps := newParams(t, c, tensor.Float64, 1)
	if _, err := NewTrainGraph(ps, c, 0, 2, 2); err == nil {
		t.Error("batch 0 accepted")
	}
	if _, err := NewTrainGraph(ps, Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: "cnn"}, 1, 2, 2); err == nil {
		t.Error("unknown cell accepted")
	}
	m, err := NewTrainGraph(ps, c, 1, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Batch{
		{Src: [][]int{{1, 9}}, SrcLen: []int{2}, TgtIn: [][]int{{0, 1}}, TgtOut: [][]int{{1, 2}}, TgtLen: []int{2}},
		{Src: [][]int{{1, 2}}, SrcLen: []int{3}, TgtIn: [][]int{{0, 1}}, TgtOut: [][]int{{1, 2}}, TgtLen: []int{2}},
		{Src: [][]int{{1, 2}}, SrcLen: []int{2}, TgtIn: [][]int{{0, 1}}, TgtOut: [][]int{{1, -2}}, TgtLen: []int{2}},
		{Src: [][]int{{1, 2}}, SrcLen: []int{0}, TgtIn: [][]int{{0, 1}}, TgtOut: [][]int{{1, 2}}, TgtLen: []int{2}},
		{},
	} {
		if err := m.Set(b); err == nil {
			t.Errorf("batch %+v accepted", b)
		}
	}
	gen, _ := NewGenerator(ps, c)
	if _, err := gen.Encode(nil); err == nil {
		t.Error("Encode(nil) accepted")
	}
	if _, err := gen.Encode([][]int{{}}); err == nil {
		t.Error("empty source accepted")
	}
	if _, err := gen.Encode([][]int{{7}}); err == nil {
		t.Error("token 7 of 5 accepted")
	}
	s, err := gen.Encode([][]int{{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gen.Step(s, []int{1, 2}); err == nil {
		t.Error("two tokens for one row accepted")
	}
	if _, _, err := gen.Step(nil, []int{1}); err == nil {
		t.Error("nil state accepted")
	}
}

// Dropout between stacked layers: gradients are right through fixed masks,
// and evaluation mode gives the loss without dropout.
func TestDropout(t *testing.T) {
	c := Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.LSTMKind, Layers: 2, Dropout: 0.4, Seed: 9}
	ps := newParams(t, c, tensor.Float64, 3)
	b := Batch{Src: [][]int{{1, 2, 3}, {4, 2, 0}}, SrcLen: []int{3, 2},
		TgtIn: [][]int{{0, 2}, {0, 3}}, TgtOut: [][]int{{2, 4}, {3, 1}}, TgtLen: []int{2, 2}}
	m, err := NewTrainGraph(ps, c, 2, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set(b); err != nil {
		t.Fatal(err)
	}
	rep, err := gradcheck.Check(m.G, m.Loss, m.G.Learnables(), 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-7 {
		t.Fatalf("max error %g at %s", rep.MaxErr, rep.Worst)
	}
	noDrop := c
	noDrop.Dropout = 0
	plain, _ := lossOf(t, ps, noDrop, b, 3, 2)
	value := func(training bool) float64 {
		m, err := NewTrainGraph(ps, c, 2, 3, 2)
		if err != nil {
			t.Fatal(err)
		}
		m.Dropout.SetTraining(training)
		if err := m.Set(b); err != nil {
			t.Fatal(err)
		}
		var v gorgonia.Value
		gorgonia.Read(m.Loss, &v)
		vm, _ := graph.NewMachine(m.G)
		defer vm.Close()
		if err := graph.Run(vm); err != nil {
			t.Fatal(err)
		}
		f, _ := graph.ValueFloat64s(v)
		return f[0]
	}
	if got := value(false); got != plain {
		t.Errorf("evaluation loss %v, without dropout %v", got, plain)
	}
	if got := value(true); got == plain {
		t.Errorf("training loss %v equals the loss without dropout", got)
	}
	if err := (Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.LSTMKind, Dropout: 1}).Validate(); err == nil {
		t.Error("dropout 1 accepted")
	}
}
