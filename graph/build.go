package graph

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"sync/atomic"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Gorgonia v0.9.18 identifies a node by a 32-bit hash of its expression
// (the leaves' names, every op, type and shape). Two different expressions
// whose hashes collide are handled wrongly in two places:
//
//   - ExprGraph.AddNode takes a new node to be an existing one when the
//     hashes match and the op, arity, type and shape agree, without
//     comparing the children: Add(p, y) comes back as an existing Add(q, y),
//     and everything built on it computes something else;
//   - the compiler's common subexpression elimination reads the register of
//     any earlier node with the same hash, whatever the node.
//
// Both happen by chance in about one graph of a few thousand nodes in a
// thousand, in graphs rnnkit builds and in the gradient nodes gorgonia.Grad
// adds. Build answers both without patching Gorgonia: it builds the graph
// twice, with the leaves named differently, so that every hash differs
// between the two, and compares their structure (a 64-bit hash of each
// node over its op, type, shape, children and the leaves' own names). A
// merge changes the structure of the one build it happens in, so agreeing
// builds have none; the accepted build is also checked for two nodes of one
// hash (what the compiler would share). Where a check fails, Build builds
// again under other names.

// MaxBuilds is the number of builds after which [Build] gives up with
// [ErrHashCollision]. Two agree unless a collision happened (about one
// graph in a thousand at a few thousand nodes), so reaching it means the
// build function is not repeatable.
const MaxBuilds = 8

var buildCount, rebuildCount atomic.Int64

// BuildStats returns how many times [Build] has called build functions in
// this process, and how many of those calls were more than the two every
// graph takes (a collision was found, or builds disagreed).
func BuildStats() (builds, extra int64) { return buildCount.Load(), rebuildCount.Load() }

// Build returns a Graph over p made by build, checked against Gorgonia's
// hash collisions (see the package doc), and the value build returned for
// it. build is called at least twice, each time on a new Graph, and must
// build the same expression every time: it may keep what it builds in
// variables it closes over, since the Graph returned is always the one of
// its last call. build must not add nodes to the Graph after it returns.
// A graph compiled with [NewMachine] should come from Build.
func Build[T any](p *Params, build func(g *Graph) (T, error)) (*Graph, T, error) {
	var zero T
	if p == nil {
		return nil, zero, errors.New("graph: nil params")
	}
	if build == nil {
		return nil, zero, errors.New("graph: nil build function")
	}
	// The first build is salted and the second not, so that where they
	// agree the accepted graph carries the names as given.
	var prints [][]uint64
	salts := func(i int) int {
		switch i {
		case 0:
			return 1
		case 1:
			return 0
		}
		return i
	}
	for i := 0; i < MaxBuilds; i++ {
		salt := salts(i)
		g, err := New(p)
		if err != nil {
			return nil, zero, err
		}
		g.salt = salt
		buildCount.Add(1)
		if i >= 2 {
			rebuildCount.Add(1)
		}
		v, err := build(g)
		if err != nil {
			return nil, zero, err
		}
		fp := fingerprint(g)
		agreed := false
		for _, q := range prints {
			if slices.Equal(q, fp) {
				agreed = true
				break
			}
		}
		prints = append(prints, fp)
		if !agreed {
			continue
		}
		if a, _ := hashCollision(g.eg); a != nil {
			continue
		}
		g.unsalt()
		return g, v, nil
	}
	return nil, zero, errors.Wrapf(ErrHashCollision, "%d builds of one graph never agreed twice without a collision: is the build function repeatable?", MaxBuilds)
}

// saltName is the name a leaf carries in Gorgonia while g is built under a
// salt: the hash of every node above it changes with the salt.
func (g *Graph) saltName(name string) string {
	if g.salt == 0 {
		return name
	}
	return fmt.Sprintf("%s\x00salt%d", name, g.salt)
}

// unsalt gives every leaf its own name back once the graph is built. The
// nodes keep the hashes they were built with (Gorgonia computes a hash once).
func (g *Graph) unsalt() {
	if g.salt == 0 {
		return
	}
	for name, n := range g.bound {
		gorgonia.WithName(name)(n)
	}
	for name, n := range g.inputs {
		gorgonia.WithName(name)(n)
	}
}

// fingerprint is the sorted list of the structural hashes of g's nodes.
// A node's structural hash covers its op (type and text), type, shape and
// children's structural hashes, and a leaf's own name (without salt): two
// builds of one expression have equal fingerprints whatever their salts,
// and a build in which Gorgonia merged two different nodes has another.
func fingerprint(g *Graph) []uint64 {
	hs := fingerprintNodes(g)
	out := make([]uint64, 0, len(hs))
	for _, h := range hs {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// fingerprintNodes returns the structural hash of every node of g.
func fingerprintNodes(g *Graph) map[*gorgonia.Node]uint64 {
	names := make(map[*gorgonia.Node]string, len(g.bound)+len(g.inputs))
	for name, n := range g.bound {
		names[n] = name
	}
	for name, n := range g.inputs {
		names[n] = name
	}
	memo := map[*gorgonia.Node]uint64{}
	var hashOf func(n *gorgonia.Node) uint64
	hashOf = func(n *gorgonia.Node) uint64 {
		if h, ok := memo[n]; ok {
			return h
		}
		h := fnv.New64a()
		fmt.Fprintf(h, "%v|%v|", n.Type(), n.Shape())
		if op := n.Op(); op == nil {
			name, ok := names[n]
			if !ok {
				name = n.Name()
			}
			fmt.Fprintf(h, "leaf|%s", name)
		} else {
			fmt.Fprintf(h, "%T|%s", op, op)
		}
		var b [8]byte
		kids := g.eg.From(n.ID())
		for kids.Next() {
			binary.LittleEndian.PutUint64(b[:], hashOf(kids.Node().(*gorgonia.Node)))
			h.Write(b[:])
		}
		memo[n] = h.Sum64()
		return memo[n]
	}
	for _, n := range g.eg.AllNodes() {
		hashOf(n)
	}
	return memo
}
