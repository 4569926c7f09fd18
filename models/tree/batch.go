package tree

import (
	"slices"

	"github.com/pkg/errors"
)

// Batch is a batch of trees flattened into one list of nodes in
// post-order, tree after tree: the layout of every model output (h, c,
// logits). A node's children come before it, and each tree's nodes are
// contiguous, its root last. Make one with NewBatch.
type Batch struct {
	Children [][]int // per node, its children's indices, left to right (none for a leaf)
	Words    []int   // per node, the word id of a leaf; −1 for an internal node
	Labels   []int   // per node, its class
	Roots    []int   // per tree, the index of its root
	pos      [][2]int
}

// NewBatch flattens trees, looking their words up in v (see Vocab.Lookup).
func NewBatch(trees []*Node, v *Vocab) (*Batch, error) {
	if len(trees) == 0 {
		return nil, errors.Wrap(ErrBatch, "no trees")
	}
	if v == nil {
		return nil, errors.Wrap(ErrBatch, "nil vocabulary")
	}
	b := &Batch{}
	for k, t := range trees {
		if t == nil {
			return nil, errors.Wrapf(ErrBatch, "tree %d is nil", k)
		}
		nodes := t.PostOrder()
		idx := make(map[*Node]int, len(nodes))
		for _, n := range nodes {
			if _, dup := idx[n]; dup {
				return nil, errors.Wrapf(ErrBatch, "tree %d: %s is reached twice", k, n.where())
			}
			i := len(b.Words)
			idx[n] = i
			var kids []int
			if len(n.Children) > 0 {
				kids = make([]int, len(n.Children))
				for j, c := range n.Children {
					kids[j] = idx[c]
				}
			}
			w := -1
			if n.IsLeaf() {
				id, err := v.Lookup(n.Word)
				if err != nil {
					return nil, errors.Wrapf(err, "tree %d, %s", k, n.where())
				}
				w = id
			} else if n.Word != "" {
				return nil, errors.Wrapf(ErrBatch, "tree %d, %s: an internal node holds word %q", k, n.where(), n.Word)
			}
			b.Children = append(b.Children, kids)
			b.Words = append(b.Words, w)
			b.Labels = append(b.Labels, n.Label)
			b.pos = append(b.pos, [2]int{n.Line, n.Col})
		}
		b.Roots = append(b.Roots, len(b.Words)-1)
	}
	return b, nil
}

// Len returns the number of nodes.
func (b *Batch) Len() int { return len(b.Words) }

// Trees returns the number of trees.
func (b *Batch) Trees() int { return len(b.Roots) }

// Leaves returns the indices of the leaves, in order.
func (b *Batch) Leaves() []int {
	var out []int
	for i, k := range b.Children {
		if len(k) == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Heights returns every node's height: 0 for a leaf, one more than its
// highest child for an internal node. The level-batched path computes all
// nodes of one height together.
func (b *Batch) Heights() []int {
	hs := make([]int, len(b.Children))
	for i, kids := range b.Children {
		for _, c := range kids {
			hs[i] = max(hs[i], hs[c]+1)
		}
	}
	return hs
}

// where names node i for messages.
func (b *Batch) where(i int) string {
	if i < len(b.pos) && b.pos[i][0] > 0 {
		return sprintf("node %d (line %d, column %d)", i, b.pos[i][0], b.pos[i][1])
	}
	return sprintf("node %d", i)
}

// Check validates the layout (see Batch) and that every word id lies in
// [0, vocab) and every label in [0, classes); an error wraps ErrBatch.
func (b *Batch) Check(vocab, classes int) error {
	n := len(b.Words)
	if n == 0 || len(b.Roots) == 0 {
		return errors.Wrap(ErrBatch, "no nodes")
	}
	if len(b.Children) != n || len(b.Labels) != n {
		return errors.Wrapf(ErrBatch, "%d children lists, %d words and %d labels", len(b.Children), n, len(b.Labels))
	}
	parent := make([]int, n)
	for i := range parent {
		parent[i] = -1
	}
	start := 0
	for t, r := range b.Roots {
		if r < start || r >= n {
			return errors.Wrapf(ErrBatch, "tree %d: root %d outside [%d, %d)", t, r, start, n)
		}
		for i := start; i <= r; i++ {
			for _, c := range b.Children[i] {
				if c < start || c >= i {
					return errors.Wrapf(ErrBatch, "tree %d, %s: child %d is not an earlier node of the tree", t, b.where(i), c)
				}
				if parent[c] >= 0 {
					return errors.Wrapf(ErrBatch, "tree %d: node %d is a child of nodes %d and %d", t, c, parent[c], i)
				}
				parent[c] = i
			}
		}
		for i := start; i < r; i++ {
			if parent[i] < 0 {
				return errors.Wrapf(ErrBatch, "tree %d: %s has no parent and is not the root", t, b.where(i))
			}
		}
		start = r + 1
	}
	if start != n {
		return errors.Wrapf(ErrBatch, "nodes %d..%d belong to no tree", start, n-1)
	}
	for i := range b.Words {
		leaf := len(b.Children[i]) == 0
		switch {
		case leaf && (b.Words[i] < 0 || b.Words[i] >= vocab):
			return errors.Wrapf(ErrBatch, "%s: word id %d outside [0, %d)", b.where(i), b.Words[i], vocab)
		case !leaf && b.Words[i] != -1:
			return errors.Wrapf(ErrBatch, "%s: an internal node with word id %d (want −1)", b.where(i), b.Words[i])
		}
		if b.Labels[i] < 0 || b.Labels[i] >= classes {
			return errors.Wrapf(ErrBatch, "%s: label %d outside 0..%d", b.where(i), b.Labels[i], classes-1)
		}
	}
	return nil
}

// CheckBinary returns an error wrapping ErrNotBinary naming the first node
// with other than 0 or 2 children, or nil.
func (b *Batch) CheckBinary() error {
	for i, kids := range b.Children {
		if k := len(kids); k != 0 && k != 2 {
			return errors.Wrapf(ErrNotBinary, "%s of tree %d has %d children, the binary models need 2", b.where(i), b.treeOf(i), k)
		}
	}
	return nil
}

func (b *Batch) treeOf(i int) int {
	t, _ := slices.BinarySearch(b.Roots, i)
	return t
}

// SameShape reports whether o has the same trees as b but for words and
// labels: a graph built for b runs o.
func (b *Batch) SameShape(o *Batch) bool {
	if o == nil || !slices.Equal(b.Roots, o.Roots) || len(b.Children) != len(o.Children) {
		return false
	}
	for i := range b.Children {
		if !slices.Equal(b.Children[i], o.Children[i]) {
			return false
		}
	}
	return true
}
