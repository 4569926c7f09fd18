package tree

import (
	"errors"
	"slices"
	"testing"
)

func mustParseAll(t *testing.T, ss ...string) []*Node {
	t.Helper()
	out := make([]*Node, len(ss))
	for i, s := range ss {
		n, err := Parse(s, 5)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = n
	}
	return out
}

func TestBuildVocab(t *testing.T) {
	ts := mustParseAll(t, "(2 (2 the) (3 (2 good) (2 film)))", "(1 (2 the) (1 bad))", "(2 the)")
	v := BuildVocab(ts, 1)
	if want := []string{Unknown, "the", "bad", "film", "good"}; !slices.Equal(v.Words(), want) {
		t.Errorf("words %v, want %v", v.Words(), want)
	}
	if v2 := BuildVocab(ts, 2); !slices.Equal(v2.Words(), []string{Unknown, "the"}) {
		t.Errorf("min count 2: %v", v2.Words())
	}
	if id, err := v.Lookup("film"); err != nil || id != 3 {
		t.Errorf("Lookup(film) = %d, %v", id, err)
	}
	if id, err := v.Lookup("unseen"); err != nil || id != 0 {
		t.Errorf("Lookup(unseen) = %d, %v, want the id of %s", id, err, Unknown)
	}
	if v.Word(4) != "good" || v.Word(5) != "" || v.Word(-1) != "" {
		t.Error("Word out of range")
	}
}

func TestNewVocab(t *testing.T) {
	v, err := NewVocab([]string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Lookup("c"); !errors.Is(err, ErrUnknownWord) {
		t.Errorf("unknown word without %s: %v", Unknown, err)
	}
	if _, err := NewVocab([]string{"a", "a"}); !errors.Is(err, ErrConfig) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := NewVocab([]string{"a", ""}); !errors.Is(err, ErrConfig) {
		t.Errorf("empty word: %v", err)
	}
}

func TestBatch(t *testing.T) {
	ts := mustParseAll(t, "(2 (1 bad) (4 (2 movie) (0 film)))", "(2 very)", "(0 (1 a) (2 b) (3 c))")
	v := BuildVocab(ts, 1)
	b, err := NewBatch(ts, v)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 10 || b.Trees() != 3 || !slices.Equal(b.Roots, []int{4, 5, 9}) {
		t.Errorf("%d nodes, roots %v", b.Len(), b.Roots)
	}
	if !slices.Equal(b.Labels, []int{1, 2, 0, 4, 2, 2, 1, 2, 3, 0}) {
		t.Errorf("labels %v", b.Labels)
	}
	if !slices.Equal(b.Children[4], []int{0, 3}) || !slices.Equal(b.Children[9], []int{6, 7, 8}) {
		t.Errorf("children %v", b.Children)
	}
	if !slices.Equal(b.Heights(), []int{0, 0, 0, 1, 2, 0, 0, 0, 0, 1}) {
		t.Errorf("heights %v", b.Heights())
	}
	if !slices.Equal(b.Leaves(), []int{0, 1, 2, 5, 6, 7, 8}) {
		t.Errorf("leaves %v", b.Leaves())
	}
	if err := b.Check(v.Len(), 5); err != nil {
		t.Error(err)
	}
	if err := b.CheckBinary(); !errors.Is(err, ErrNotBinary) {
		t.Errorf("a 3-child node: %v", err)
	} else {
		t.Log(err)
	}
	if !b.SameShape(b) {
		t.Error("not the same shape as itself")
	}

	// Layouts Check refuses.
	for name, mutate := range map[string]func(b *Batch){
		"child after parent": func(b *Batch) { b.Children[4] = []int{0, 5} },
		"two parents":        func(b *Batch) { b.Children[3] = []int{1, 0} },
		"orphan":             func(b *Batch) { b.Children[4] = []int{3, 3}; b.Children[3] = []int{1, 2} },
		"root out of range":  func(b *Batch) { b.Roots[2] = 12 },
		"stray nodes":        func(b *Batch) { b.Roots = b.Roots[:2] },
		"word id":            func(b *Batch) { b.Words[0] = 99 },
		"internal word":      func(b *Batch) { b.Words[3] = 1 },
		"label":              func(b *Batch) { b.Labels[2] = 5 },
		"lengths":            func(b *Batch) { b.Labels = b.Labels[:3] },
	} {
		c, _ := NewBatch(ts, v)
		mutate(c)
		if err := c.Check(v.Len(), 5); !errors.Is(err, ErrBatch) {
			t.Errorf("%s: Check = %v, want ErrBatch", name, err)
		}
	}

	if _, err := NewBatch(nil, v); !errors.Is(err, ErrBatch) {
		t.Errorf("no trees: %v", err)
	}
	strict, _ := NewVocab([]string{"bad"})
	if _, err := NewBatch(ts, strict); !errors.Is(err, ErrUnknownWord) {
		t.Errorf("unknown word: %v", err)
	}
}
