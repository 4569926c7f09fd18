package plot

import (
	"path/filepath"
	"strings"
	"testing"
)

// A tree draws into a PNG; a deep chain too (no recursion); bad trees are
// errors.
func TestTree(t *testing.T) {
	classes := []string{"very negative", "negative", "neutral", "positive", "very positive"}
	leaf := func(w string, c int) *TreeNode { return &TreeNode{Word: w, Class: c} }
	root := &TreeNode{Class: 3, Children: []*TreeNode{
		leaf("The", 2), {Class: 4, Children: []*TreeNode{leaf("film", 2), {Class: 4, Children: []*TreeNode{leaf("is", 2), leaf("wonderful", 4)}}}},
	}}
	path := filepath.Join(t.TempDir(), "tree.png")
	if err := Tree(path, "The film is wonderful", root, classes); err != nil {
		t.Fatal(err)
	}
	isPNG(t, path)
	chain := leaf("a", 1)
	for i := 0; i < 60; i++ {
		chain = &TreeNode{Class: i % 5, Children: []*TreeNode{leaf("w", 0), chain}}
	}
	if err := Tree(filepath.Join(t.TempDir(), "chain.png"), "chain", chain, classes); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		root    *TreeNode
		classes []string
		want    string
	}{
		"nil tree":  {nil, classes, "no tree"},
		"no class":  {root, nil, "no classes"},
		"class 7":   {leaf("x", 7), classes, "class 7"},
		"nil child": {&TreeNode{Children: []*TreeNode{nil}}, classes, "nil child"},
	} {
		if err := Tree(filepath.Join(t.TempDir(), "x.png"), "x", c.root, c.classes); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
