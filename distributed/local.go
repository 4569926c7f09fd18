package distributed

import (
	"sync"
	"time"

	"github.com/pkg/errors"
)

// NewLocal returns an in-process group of n ranks: element k is rank k's
// Comm, to be used by one goroutine (each rank its own). Its collectives
// meet over shared memory and sum in rank order, as a deterministic MPI
// would. A collective that waits longer than timeout (0: forever) for the
// other ranks aborts the group with an error that says so; Abort by any
// rank makes every rank's pending and later collectives fail.
func NewLocal(n int, timeout time.Duration) ([]Comm, error) {
	if n < 1 {
		return nil, errors.Errorf("distributed: a group of %d ranks", n)
	}
	if timeout < 0 {
		return nil, errors.Errorf("distributed: negative timeout %v", timeout)
	}
	g := &localGroup{n: n, timeout: timeout, abortCh: make(chan struct{})}
	out := make([]Comm, n)
	for k := range out {
		out[k] = &local{g: g, rank: k}
	}
	return out, nil
}

// localGroup is what the ranks of NewLocal share.
type localGroup struct {
	n       int
	timeout time.Duration

	mu      sync.Mutex
	round   *round // the collective being gathered; nil: none
	aborted error  // set once, with abortCh closed
	abortCh chan struct{}
}

// round is one collective: what each rank brought, and when it is done.
type round struct {
	op      string
	length  int
	root    int
	b64     [][]float64
	b32     [][]float32
	arrived int
	err     error
	done    chan struct{}
}

// local is one rank of a localGroup.
type local struct {
	g    *localGroup
	rank int
}

func (c *local) Rank() int { return c.rank }
func (c *local) Size() int { return c.g.n }

func (c *local) AllreduceSum(x []float64) error {
	return c.g.collective(c.rank, "allreduce64", x, nil, 0)
}

func (c *local) AllreduceSum32(x []float32) error {
	return c.g.collective(c.rank, "allreduce32", nil, x, 0)
}

func (c *local) Broadcast(x []float64, root int) error {
	if root < 0 || root >= c.g.n {
		return errors.Errorf("distributed: broadcast from rank %d in a group of %d", root, c.g.n)
	}
	return c.g.collective(c.rank, "broadcast", x, nil, root)
}

func (c *local) Barrier() error { return c.g.collective(c.rank, "barrier", nil, nil, 0) }

func (c *local) Abort(code int) error {
	c.g.abort(errors.Wrapf(ErrAborted, "distributed: rank %d aborted the group with code %d", c.rank, code))
	return nil
}

// abort records err as the group's end, once.
func (g *localGroup) abort(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.aborted == nil {
		g.aborted = err
		close(g.abortCh)
	}
}

// collective brings rank's buffer to the current round and waits for the
// round to complete.
func (g *localGroup) collective(rank int, op string, x64 []float64, x32 []float32, root int) error {
	length := len(x64) + len(x32)
	g.mu.Lock()
	if g.aborted != nil {
		err := g.aborted
		g.mu.Unlock()
		return err
	}
	r := g.round
	if r == nil {
		r = &round{op: op, length: length, root: root, b64: make([][]float64, g.n), b32: make([][]float32, g.n), done: make(chan struct{})}
		g.round = r
	}
	if r.err == nil && (r.op != op || r.length != length || r.root != root) {
		r.err = errors.Errorf("distributed: rank %d called %s of %d values (root %d) while another rank called %s of %d (root %d)",
			rank, op, length, root, r.op, r.length, r.root)
	}
	r.b64[rank], r.b32[rank] = x64, x32
	r.arrived++
	if r.arrived == g.n {
		if r.err == nil {
			r.reduce()
		}
		g.round = nil
		close(r.done)
	}
	g.mu.Unlock()

	var timer <-chan time.Time
	if g.timeout > 0 {
		t := time.NewTimer(g.timeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-r.done:
		return r.err
	case <-g.abortCh:
	case <-timer:
		g.abort(errors.Wrapf(ErrAborted, "distributed: rank %d waited more than %v in %s for the other ranks (one has died or hangs)", rank, g.timeout, op))
	}
	select { // a round that completed as the group was aborted still counts
	case <-r.done:
		return r.err
	default:
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.aborted
}

// reduce computes the round's result into every rank's buffer: sums in
// rank order, or root's values.
func (r *round) reduce() {
	switch r.op {
	case "allreduce64":
		sum := append([]float64(nil), r.b64[0]...)
		for _, b := range r.b64[1:] {
			for i, v := range b {
				sum[i] += v
			}
		}
		for _, b := range r.b64 {
			copy(b, sum)
		}
	case "allreduce32":
		sum := append([]float32(nil), r.b32[0]...)
		for _, b := range r.b32[1:] {
			for i, v := range b {
				sum[i] += v
			}
		}
		for _, b := range r.b32 {
			copy(b, sum)
		}
	case "broadcast":
		for k, b := range r.b64 {
			if k != r.root {
				copy(b, r.b64[r.root])
			}
		}
	}
}
