package distributed

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training"
)

// Attach puts t into the group c (a collective: every rank calls it with
// its own Trainer, after a resume if there is one). It checks that the
// model can be split among c's ranks, that every rank stands at rank 0's
// position (epoch, step, batch of the epoch), broadcasts rank 0's
// parameters, and sets t.Group. An error on one rank is an error on all.
func Attach(t *training.Trainer, c Comm) error {
	if t == nil || c == nil {
		return errors.New("distributed: Attach needs a Trainer and a Comm")
	}
	var problem error
	if c.Size() > 1 {
		kind := t.Model.Describe().Kind
		if _, ok := t.Model.(training.Sharder); !ok {
			problem = errors.Errorf("distributed: a %s model cannot be trained data-parallel (it does not split its batches)", kind)
		} else if _, ok := t.Model.(training.Carrier); ok {
			if _, ok := t.Model.(training.ShardCarrier); !ok {
				problem = errors.Errorf("distributed: a %s model cannot split the state it carries between batches", kind)
			}
		}
	}
	mine := []float64{float64(t.Epoch), float64(t.Step), float64(t.StepInEpoch), float64(t.Skipped)}
	pos := append([]float64(nil), mine...)
	if err := c.Broadcast(pos, 0); err != nil {
		return errors.Wrap(err, "distributed: broadcasting the position")
	}
	if problem == nil {
		for i := range pos {
			if pos[i] != mine[i] {
				problem = errors.Errorf("distributed: rank %d stands at epoch %v, step %v (batch %v of the epoch), rank 0 at epoch %v, step %v (batch %v)",
					c.Rank(), mine[0], mine[1], mine[2], pos[0], pos[1], pos[2])
				break
			}
		}
	}
	flag := []float64{0}
	if problem != nil {
		flag[0] = 1
	}
	if err := c.AllreduceSum(flag); err != nil {
		return errors.Wrap(err, "distributed: agreeing to start")
	}
	if problem != nil {
		return problem
	}
	if flag[0] > 0 {
		return errors.Errorf("distributed: %v rank(s) of the group cannot start (their errors say why)", flag[0])
	}
	if err := BroadcastParams(t.Params, c, 0); err != nil {
		return err
	}
	t.Group = c
	return nil
}

// BroadcastParams sets ps on every rank to root's values (a collective):
// all of them in one broadcast, in ps's order; every rank's ps must have
// the same names and shapes.
func BroadcastParams(ps *graph.Params, c Comm, root int) error {
	names := ps.Names()
	var flat []float64
	for _, name := range names {
		p, _ := ps.Get(name)
		v, err := graph.Float64s(p)
		if err != nil {
			return errors.Wrapf(err, "distributed: parameter %q", name)
		}
		flat = append(flat, v...)
	}
	if err := c.Broadcast(flat, root); err != nil {
		return errors.Wrap(err, "distributed: broadcasting the parameters")
	}
	for _, name := range names {
		p, _ := ps.Get(name)
		n := p.Shape().TotalSize()
		if err := graph.SetFloat64s(p, flat[:n]); err != nil {
			return errors.Wrapf(err, "distributed: parameter %q", name)
		}
		flat = flat[n:]
	}
	return nil
}
