package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// treeFiles are the tree family's test files: a data directory, bad data
// directories, a checkpoint of a tiny sst-treelstm and one of a tiny
// sst-bilstm.
type treeFiles struct {
	data, badLine, ternary, dev, badDev, ckpt, bilstm string
}

// synthSST returns n random binary trees over a few words, each node
// labelled by the words it covers, in SST's bracket format.
func synthSST(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 9))
	words := []string{"good", "bad", "film", "the", "not", "great", "dull", "plot", "."}
	pol := map[string]int{"good": 1, "great": 2, "bad": -1, "dull": -1}
	var build func(k int) (*tree.Node, int)
	build = func(k int) (*tree.Node, int) {
		if k == 1 {
			w := words[r.IntN(len(words))]
			return tree.Leaf(2+pol[w], w), pol[w]
		}
		s := 1 + r.IntN(k-1)
		a, pa := build(s)
		b, pb := build(k - s)
		p := max(-2, min(2, pa+pb))
		return tree.Join(2+p, a, b), p
	}
	var sb strings.Builder
	for range n {
		t, _ := build(1 + r.IntN(8))
		sb.WriteString(t.String() + "\n")
	}
	return sb.String()
}

// makeTreeFiles writes the tree family's data into dir and trains the two
// checkpoints there (a few seconds).
func makeTreeFiles(dir string) (treeFiles, error) {
	tf := treeFiles{data: filepath.Join(dir, "sst"), badLine: filepath.Join(dir, "sst-badline"), ternary: filepath.Join(dir, "sst-ternary")}
	tf.dev, tf.badDev = filepath.Join(tf.data, "dev.txt"), filepath.Join(dir, "bad-dev.txt")
	train, dev := synthSST(1, 60), synthSST(2, 20)
	for path, text := range map[string]string{
		filepath.Join(tf.data, "train.txt"): train, tf.dev: dev,
		filepath.Join(tf.badLine, "train.txt"): "(2 (2 a) (2 b))\n(3 (2 a) (4 good)\n", filepath.Join(tf.badLine, "dev.txt"): dev,
		filepath.Join(tf.ternary, "train.txt"): train + "(2 (2 a) (2 b) (2 c))\n", filepath.Join(tf.ternary, "dev.txt"): dev,
		tf.badDev: "(2 (2 a) (2 b))\n(7 (2 a) (4 good))\n",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return tf, err
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return tf, err
		}
	}
	for _, c := range []struct {
		preset string
		path   *string
	}{{"sst-treelstm", &tf.ckpt}, {"sst-bilstm", &tf.bilstm}} {
		out := filepath.Join(dir, c.preset)
		if err := run(context.Background(), treeTrainArgs(c.preset, tf.data, out), io.Discard, io.Discard); err != nil {
			return tf, err
		}
		*c.path = filepath.Join(out, checkpoint.BestName)
	}
	return tf, nil
}

// treeTrainArgs is a tree run of a second on data.
func treeTrainArgs(preset, data, out string) []string {
	return []string{"train", "-preset", preset, "-data", data, "-epochs", "1", "-hidden", "4", "-embed", "4", "-batch", "8",
		"-pad", "8", "-log-every", "1000", "-out", out}
}

// The tree family's rows of the CLI table. Its files are made next to the
// table's fixture directory, in the test's own temporary directory (which
// the testing package removes), so that the table's check that the rows
// leave that directory as it was still holds.
func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		dir := filepath.Join(filepath.Dir(fx.dir), "tree-fixtures")
		tf, err := makeTreeFiles(dir)
		if err != nil { // one row that fails with the reason
			return []cliCommand{{name: fmt.Sprintf("tree fixtures: %v", err), base: []string{"tree-fixtures"}, rows: []cliRow{{flag: "x", value: "y"}}}}
		}
		train := []string{"train", "-preset", "sst-treelstm", "-data", tf.data, "-epochs", "1", "-hidden", "4", "-embed", "4",
			"-batch", "8", "-pad", "8", "-log-every", "1000", "-out", "{out}"}
		return []cliCommand{
			{name: "train sst-treelstm", base: train,
				flags: []flagSpec{{"batch", "int", "22222", ""}, {"hidden", "int", "22222", ""}, {"embed", "int", "22222", ""},
					{"pad", "int", "22222", ""}, {"dropout", "float", "a22222", ""}, {"weight-decay", "float", "a22222", ""},
					{"data", "in", "211", ""}},
				rows: []cliRow{
					{flag: "data", value: "(absent)", code: 2, want: "need -data DIR"},
					{flag: "data", value: "{file}", code: 1, want: "is a file, not a directory"},
					{flag: "data", value: tf.badLine, code: 1, want: "train.txt: line 2"},
					{flag: "data", value: tf.ternary, code: 1, want: "has 3 children, the binary models need 2"},
					{flag: "cell", value: "lstm", code: 2, want: "-cell does not apply to the sst-treelstm preset"},
					{flag: "optimizer", value: "adam", code: 2, want: "-weight-decay applies only to -optimizer adagrad"},
				}},
			{name: "train sst-rnn", base: append([]string{"train", "-preset", "sst-rnn"}, train[3:]...),
				rows: []cliRow{{flag: "embed", value: "8", code: 2, want: "want -hidden's 4"}}},
			{name: "eval tree", base: []string{"eval", "-checkpoint", tf.ckpt, "-data", tf.dev},
				rows: []cliRow{
					{flag: "data", value: tf.badDev, code: 1, want: "bad-dev.txt: line 2, column 2: label 7 outside 0..4"},
					{flag: "data", value: fx.dates, code: 1, want: "dates.txt: line 1"},
				}},
			{name: "classify", base: []string{"classify", "-checkpoint", tf.ckpt, "-parser", "right-branching"}, stdin: "a good film\n",
				flags: []flagSpec{{"checkpoint", "in", "211", ""}, {"png", "outfile", "2111", ""}, {"parser", "string", "22", ""}},
				rows: []cliRow{
					{flag: "checkpoint", value: fx.s2s, code: 1, want: "not a tree model"},
					{flag: "parser", value: "right-branching", stdin: "(2 (1 a) (3 b)\n", code: 1, want: "standard input, line 1"},
					{flag: "parser", value: "right-branching", stdin: "(2 (1 a) (9 b))\n", code: 1, want: "label 9 outside 0..4"},
					{flag: "parser", value: "right-branching", stdin: "(2 (1 a) (1 b) (3 c))\n", code: 1, want: "the binary models need 2"},
					{flag: "parser", value: "right-branching", stdin: "\n\n", code: 0},
				}},
		}
	})
}

// classifyOut runs classify on stdin and returns its output.
func classifyOut(t *testing.T, in string, args ...string) (string, string, int) {
	t.Helper()
	stdin = strings.NewReader(in)
	defer func() { stdin = os.Stdin }()
	return runCmd(t, append([]string{"classify"}, args...)...)
}

// classify prints a line per input line: the class, five probabilities
// that sum to 1, and the tree with a predicted class on every node, whose
// words are the sentence's tokens; right-branching trees when asked (and
// said so on stderr), bracketed trees as given; -png draws each.
func TestClassify(t *testing.T) {
	dir := t.TempDir()
	tf, err := makeTreeFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, "tree.png")
	for _, ck := range []string{tf.ckpt, tf.bilstm} {
		in := "The film isn't good.\n\n(3 (2 a) (4 (2 great) (2 plot)))\n"
		out, errOut, code := classifyOut(t, in, "-checkpoint", ck, "-parser", "right-branching", "-png", png)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", ck, code, errOut)
		}
		if !strings.Contains(errOut, "right-branching trees") {
			t.Errorf("stderr does not say which parser: %q", errOut)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 || lines[1] != "" {
			t.Fatalf("output %q", out)
		}
		wantWords := []string{"The film is n't good .", "a great plot"}
		for i, l := range []string{lines[0], lines[2]} {
			f := strings.Split(l, "\t")
			if len(f) != 3 {
				t.Fatalf("line %q", l)
			}
			sum := 0.0
			for _, p := range strings.Fields(f[1]) {
				v, err := strconv.ParseFloat(p, 64)
				if err != nil {
					t.Fatal(err)
				}
				sum += v
			}
			pt, err := tree.Parse(f[2], 5)
			if err != nil || strings.Join(pt.Words(), " ") != wantWords[i] || sum < 0.99 || sum > 1.01 {
				t.Errorf("line %q: tree %v (%v), probabilities sum to %v", l, pt, err, sum)
			}
			if i == 0 && pt.String() != "("+strconv.Itoa(pt.Label)+" "+pt.Children[0].String()+" "+pt.Children[1].String()+")" {
				t.Errorf("not a binary tree: %s", pt)
			}
		}
		for _, p := range []string{png, filepath.Join(dir, "tree-2.png")} {
			if b, err := os.ReadFile(p); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
				t.Errorf("%s: %v", p, err)
			}
		}
	}
}

// With link-parser installed, auto uses it and says so; without it, auto
// falls back to right-branching trees and link-grammar is an error.
func TestClassifyParser(t *testing.T) {
	dir := t.TempDir()
	tf, err := makeTreeFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if path, err := exec.LookPath("link-parser"); err == nil {
		out, errOut, code := classifyOut(t, "The plot is not good.\n", "-checkpoint", tf.ckpt)
		if code != 0 || !strings.Contains(errOut, "link-grammar ("+path+")") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		pt, err := tree.Parse(strings.Split(strings.TrimSpace(out), "\t")[2], 5)
		if err != nil || strings.Join(pt.Words(), " ") != "The plot is not good ." || pt.CheckBinary() != nil {
			t.Errorf("link-grammar tree %v: %v", pt, err)
		}
	} else {
		t.Log("link-parser not installed: only the fallback is tested")
	}
	saved := linkParser
	linkParser = "rnnkit-no-such-link-parser"
	defer func() { linkParser = saved }()
	_, errOut, code := classifyOut(t, "a good film\n", "-checkpoint", tf.ckpt)
	if code != 0 || !strings.Contains(errOut, "link-parser not found: right-branching trees") {
		t.Errorf("auto without link-parser: exit %d, %q", code, errOut)
	}
	_, errOut, code = classifyOut(t, "a good film\n", "-checkpoint", tf.ckpt, "-parser", "link-grammar")
	if code != 1 || !strings.Contains(errOut, "-parser link-grammar") {
		t.Errorf("link-grammar without link-parser: exit %d, %q", code, errOut)
	}
}

// eval -json on a tree checkpoint reports the tree metrics; the BiLSTM's
// scores every phrase.
func TestEvalTree(t *testing.T) {
	dir := t.TempDir()
	tf, err := makeTreeFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range []string{tf.ckpt, tf.bilstm} {
		out, errOut, code := runCmd(t, "eval", "-checkpoint", ck, "-data", tf.dev, "-json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, k := range []string{`"model":"tree"`, `"examples":20`, `"root_accuracy_fine":`, `"root_accuracy_binary":`, `"all_nodes_accuracy_fine":`, `"loss":`} {
			if !strings.Contains(out, k) {
				t.Errorf("%s: eval -json says %s, without %s", ck, out, k)
			}
		}
	}
}
