package training

import (
	"context"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/optim"
)

// Group is the data-parallel group a [Trainer] trains in (Trainer.Group;
// nil: alone): Size processes, each running the same Trainer on the same
// data with the same config. Package distributed makes one (over MPI, or
// in-process for tests) and sets it.
//
// In a group every step shards the batch ([Sharder]: rank k trains part
// k of Size), scales each rank's loss and gradients by its part's share
// of the batch's weight, sums them with AllreduceSum, and applies the
// same clipping and optimiser step on every rank, so each rank takes the
// step one process would take on the whole batch. A rank whose step fails
// still takes part in the sum, with a flag that stops every rank; a
// cancelled context on any rank stops them all after the same step. Rank
// 0 alone evaluates (and broadcasts the metrics), prints the epoch lines
// and writes checkpoints, metrics.jsonl and the plot.
//
// All ranks call the collectives in the same order with buffers of the
// same length.
type Group interface {
	// Rank is this process's number in [0, Size).
	Rank() int
	// Size is the number of ranks.
	Size() int
	// AllreduceSum replaces x on every rank by the sum over ranks.
	AllreduceSum(x []float64) error
	// Broadcast replaces x on every rank by root's x.
	Broadcast(x []float64, root int) error
}

// Sharder is implemented by a [Model] that can train in a [Group] of more
// than one rank.
type Sharder interface {
	// Shard returns part k of n of the batch b (a deterministic split,
	// the same on every rank; nil when the part is empty) and the part's
	// weight: the number of units (tokens, pairs) its loss is the mean
	// over, so that the batch's loss is the weighted mean of its parts'
	// (part k of 1 is b itself).
	Shard(b Batch, k, n int) (part Batch, weight float64, err error)
}

// ShardCarrier is implemented by a [Carrier] that is a [Sharder]: each
// rank carries the state of its part's rows only.
type ShardCarrier interface {
	// ShardCarry returns a copy of c (a whole batch's carried state) with
	// every value that part k of n does not own set to zero, so that the
	// sum over the ranks of their ShardCarry is the whole state.
	ShardCarry(c [][]float64, k, n int) [][]float64
}

// seedShard is the purpose of the seed of a rank's part of a step.
const seedShard = 4

// errGroupStopped is the error of a step that a cancelled context on some
// rank of the group stopped.
var errGroupStopped = errors.Wrap(context.Canceled, "training: a rank of the group was interrupted")

// lead reports whether t writes the run's files: alone, or rank 0.
func (t *Trainer) lead() bool { return t.Group == nil || t.Group.Rank() == 0 }

// updateIn is update, or its group form.
func (t *Trainer) updateIn(ctx context.Context, b Batch) (loss, norm float64, err error) {
	if t.Group == nil {
		return t.update(b)
	}
	return t.updateShared(ctx, b)
}

// parts returns this rank's part of b, its share of b's weight, and an
// error.
func (t *Trainer) part(b Batch) (Batch, float64, error) {
	k, n := t.Group.Rank(), t.Group.Size()
	sh, ok := t.Model.(Sharder)
	if !ok {
		if n == 1 {
			return b, 1, nil
		}
		return nil, 0, errors.Errorf("training: a %s model cannot be split among %d ranks", t.Model.Describe().Kind, n)
	}
	var mine, total float64
	var part Batch
	for j := 0; j < n; j++ {
		p, w, err := sh.Shard(b, j, n)
		if err != nil {
			return nil, 0, err
		}
		if !(w >= 0) || math.IsInf(w, 0) || (p == nil) != (w == 0) {
			return nil, 0, errors.Errorf("training: part %d of %d has weight %v", j+1, n, w)
		}
		total += w
		if j == k {
			part, mine = p, w
		}
	}
	if total == 0 {
		return nil, 0, errors.New("training: a batch of weight 0")
	}
	return part, mine / total, nil
}

// updateShared is update in a group: see [Group].
func (t *Trainer) updateShared(ctx context.Context, b Batch) (loss, norm float64, err error) {
	if t.damaged != "" {
		return 0, 0, errors.Wrap(ErrDamaged, t.damaged)
	}
	names := t.Params.Names()
	offset := make([]int, len(names)+1)
	for i, name := range names {
		p, _ := t.Params.Get(name)
		offset[i+1] = offset[i] + p.Shape().TotalSize()
	}
	// buf: the scaled gradients, one presence flag per parameter, the
	// scaled loss, the failure and stop flags.
	nv := offset[len(names)]
	buf := make([]float64, nv+len(names)+3)
	lossAt, failAt, stopAt := nv+len(names), nv+len(names)+1, nv+len(names)+2

	var g *compiled
	var local error
	part, share, local := t.part(b)
	if local == nil && part != nil {
		if g, local = t.graph(part, true); local == nil {
			defer g.vm.Reset()
			s := seed(t.Cfg.Seed, seedStep, uint64(t.Step))
			if t.Group.Size() > 1 {
				s = seed(s, seedShard, uint64(t.Group.Rank()))
			}
			var l float64
			if l, local = g.run(part, s); local == nil {
				if t.fault != nil && t.fault(t.Step) {
					l = math.NaN()
				}
				buf[lossAt] = share * l
				if local = packGrads(buf, g.params, names, offset, share); local == nil {
					local = packRowGrads(buf, g, t.Params, names, offset, share)
				}
			}
		}
	}
	if local != nil {
		buf[failAt] = 1
	}
	if ctx.Err() != nil {
		buf[stopAt] = 1
	}
	zero := func() {
		if g != nil {
			_ = optim.ZeroGrads(g.params)
		}
	}
	if err := t.Group.AllreduceSum(buf); err != nil {
		zero()
		return 0, 0, errors.Wrap(err, "training: summing the gradients of the group")
	}
	switch {
	case local != nil:
		zero()
		return 0, 0, errors.Wrapf(local, "training: rank %d", t.Group.Rank())
	case buf[failAt] > 0:
		zero()
		return 0, 0, errors.Errorf("training: the step failed on %v other rank(s) of the group", buf[failAt])
	case buf[stopAt] > 0:
		zero()
		return 0, 0, errGroupStopped
	}
	loss = buf[lossAt]
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		zero()
		return 0, 0, errors.Wrapf(ErrNonFinite, "loss %v; the update was not applied", loss)
	}
	grads, err := unpackGrads(buf, g, t.Params, names, offset)
	if err != nil {
		zero()
		return 0, 0, err
	}
	norm = math.NaN()
	if t.Cfg.Clip > 0 {
		if norm, err = optim.ClipGlobalNorm(grads, t.Cfg.Clip); err != nil {
			zero()
			return 0, 0, nonFinite(err)
		}
	}
	if err := t.Opt.Step(t.Params, grads); err != nil {
		zero()
		return 0, 0, nonFinite(err)
	}
	if err := checkUpdated(t.Params, t.Opt.LR(), &t.damaged); err != nil {
		zero()
		return 0, 0, err
	}
	zero()
	return loss, norm, nil
}

// packGrads adds share times the gradients of nodes into buf at their
// parameters' offsets, and sets the presence flag of each.
func packGrads(buf []float64, nodes gorgonia.Nodes, names []string, offset []int, share float64) error {
	grads, err := optim.GradsOf(nodes)
	if err != nil {
		return nonFinite(err)
	}
	nv := offset[len(offset)-1]
	for i, name := range names {
		gt, ok := grads[name]
		if !ok {
			continue
		}
		dst := buf[offset[i]:offset[i+1]]
		if gt.Shape().TotalSize() != len(dst) || gt.RequiresIterator() {
			return errors.Errorf("training: the gradient of %q has shape %v", name, gt.Shape())
		}
		switch d := gt.Data().(type) {
		case []float64:
			for j, v := range d {
				dst[j] = share * v
			}
		case []float32:
			for j, v := range d {
				dst[j] = share * float64(v)
			}
		default:
			return errors.Errorf("training: the gradient of %q is %v", name, gt.Dtype())
		}
		buf[nv+i] = 1
	}
	return nil
}

// packRowGrads adds the row gradients of g's graph (see [RowGrader]),
// scaled by share, into buf as packGrads packs dense ones: a group sums
// every gradient densely, so a parameter some rank has rows of is updated
// on every rank by the dense step, which equals the row-sparse one
// ([optim.RowStepper]).
func packRowGrads(buf []float64, g *compiled, ps *graph.Params, names []string, offset []int, share float64) error {
	rg, ok := g.g.(RowGrader)
	if !ok || len(rg.RowParams()) == 0 {
		return nil
	}
	rows, err := rg.RowGrads()
	if err != nil {
		return errors.Wrap(err, "training: row gradients")
	}
	nv := offset[len(offset)-1]
	for i, name := range names {
		r, ok := rows[name]
		if !ok {
			continue
		}
		p, _ := ps.Get(name)
		if len(p.Shape()) != 2 {
			return errors.Errorf("training: row gradient of %q, which is not a matrix parameter", name)
		}
		d, err := r.Dense(p.Shape()[0], p.Shape()[1])
		if err != nil {
			return nonFinite(err)
		}
		dst := buf[offset[i]:offset[i+1]]
		switch v := d.Data().(type) {
		case []float64:
			for j, x := range v {
				dst[j] += share * x
			}
		case []float32:
			for j, x := range v {
				dst[j] += share * float64(x)
			}
		default:
			return errors.Errorf("training: the row gradient of %q is %v", name, d.Dtype())
		}
		buf[nv+i] = 1
	}
	return nil
}

// unpackGrads returns the summed gradients of the parameters some rank had
// one of: written into this rank's own gradient tensors (g's; new ones
// where it has none).
func unpackGrads(buf []float64, g *compiled, ps *graph.Params, names []string, offset []int) (optim.Grads, error) {
	var own optim.Grads
	if g != nil {
		var err error
		if own, err = optim.GradsOf(g.params); err != nil {
			return nil, nonFinite(err)
		}
	}
	nv := offset[len(offset)-1]
	out := optim.Grads{}
	for i, name := range names {
		if buf[nv+i] == 0 {
			continue
		}
		gt, ok := own[name]
		if !ok {
			p, _ := ps.Get(name)
			gt = tensor.New(tensor.Of(p.Dtype()), tensor.WithShape(p.Shape().Clone()...))
		}
		if err := graph.SetFloat64s(gt, buf[offset[i]:offset[i+1]]); err != nil {
			return nil, errors.Wrapf(err, "training: the gradient of %q", name)
		}
		out[name] = gt
	}
	return out, nil
}

// evaluateTest evaluates on t.Test: alone, or on rank 0 of the group,
// which broadcasts the metrics the model describes.
func (t *Trainer) evaluateTest(ctx context.Context) (Metrics, error) {
	if t.Group == nil || t.Group.Size() == 1 {
		return t.Evaluate(ctx, t.Test)
	}
	ms := t.Model.Describe().Metrics
	buf := make([]float64, 1+len(ms))
	var m Metrics
	var err error
	if t.Group.Rank() == 0 {
		if m, err = t.Evaluate(ctx, t.Test); err == nil {
			buf[0] = 1
			for i, d := range ms {
				buf[1+i] = metricOr(m, d.Name)
			}
		}
	}
	if berr := t.Group.Broadcast(buf, 0); berr != nil {
		return nil, errors.Wrap(berr, "training: broadcasting the test metrics")
	}
	if t.Group.Rank() == 0 {
		return m, err
	}
	if buf[0] != 1 {
		return nil, errors.New("training: rank 0 failed to evaluate")
	}
	m = Metrics{}
	for i, d := range ms {
		m[d.Name] = buf[1+i]
	}
	return m, nil
}

// carried returns the carried state of c for a checkpoint: in a group of
// more than one rank, the sum of the ranks' own rows (a collective).
func (t *Trainer) carried(c Carrier) ([][]float64, error) {
	v := c.Carry()
	if t.Group == nil || t.Group.Size() == 1 || v == nil {
		return v, nil
	}
	sc, ok := t.Model.(ShardCarrier)
	if !ok {
		return nil, errors.Errorf("training: a %s model cannot split its carried state among ranks", t.Model.Describe().Kind)
	}
	v = sc.ShardCarry(v, t.Group.Rank(), t.Group.Size())
	var flat []float64
	for _, x := range v {
		flat = append(flat, x...)
	}
	if err := t.Group.AllreduceSum(flat); err != nil {
		return nil, errors.Wrap(err, "training: gathering the carried state")
	}
	out := make([][]float64, len(v))
	for i, x := range v {
		out[i], flat = flat[:len(x):len(x)], flat[len(x):]
	}
	return out, nil
}
