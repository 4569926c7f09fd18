package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/plot"
	"github.com/rnnkit/rnnkit/training/preset"
)

func init() {
	commands["classify"] = command{"the sentiment of sentences (or bracketed trees) from standard input with a tree-model checkpoint", runClassify}
}

const classifyAbout = "Reads sentences from standard input, one a line, and prints each one's sentiment by a\n" +
	"checkpoint of rnnkit train -preset sst-treelstm, sst-rnn or sst-bilstm: the class, the\n" +
	"five probabilities and the tree with every node's predicted class in bracket format.\n" +
	"A line that starts with \"(\" is taken as a tree in that format (SST's; its labels must\n" +
	"be classes of the model, and are not used). A sentence is tokenized as SST is and parsed with link-grammar's link-parser\n" +
	"(Debian: apt-get install link-grammar) when it is on the PATH, its constituent tree\n" +
	"binarized for the binary models; without it (or with -parser right-branching) each word\n" +
	"is joined to the tree of the words after it. Which parser runs goes to standard error.\n" +
	"-png draws each tree with every node coloured by its predicted class (the second line's\n" +
	"into FILE-2.png, and so on)."

// linkParser is the parser's command (a variable for tests).
var linkParser = "link-parser"

// sentenceParser turns a line of text into a tree.
type sentenceParser struct {
	link  string // link-parser's path; "" for right-branching trees
	label int    // the placeholder label of every node
}

// parse returns the tree of a sentence: link-parser's, binarized when
// binary, or right-branching (also when link-parser fails on the
// sentence, which is reported on stderr).
func (p sentenceParser) parse(ctx context.Context, line string, binary bool, stderr io.Writer) (*tree.Node, error) {
	words := tree.Tokenize(line)
	if len(words) == 0 {
		return nil, errors.New("no words")
	}
	if p.link != "" {
		t, err := p.linkTree(ctx, line, words)
		if err == nil {
			if binary {
				t = tree.Binarize(t)
			}
			return t, nil
		}
		fmt.Fprintf(stderr, "classify: link-parser: %v; a right-branching tree instead\n", err)
	}
	return tree.RightBranching(words, p.label)
}

// linkTree runs link-parser on one sentence and reads its constituent
// tree; its leaves become the sentence's tokens.
func (p sentenceParser) linkTree(ctx context.Context, line string, words []string) (*tree.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.link, "en", "-constituents=1", "-graphics=0", "-verbosity=0", "-timeout=10")
	cmd.Stdin = strings.NewReader(line + "\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, err
	}
	t, err := tree.ReadConstituents(out.String(), p.label)
	if err != nil {
		return nil, err
	}
	return tree.Retoken(t, words, p.label), nil
}

// pngPath returns the -png file of the k-th tree (from 1).
func pngPath(path string, k int) string {
	if k == 1 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), k, ext)
}

// className names class k of a model with classes classes.
func className(k, classes int) string {
	if classes == preset.SSTClasses {
		return preset.SentimentNames[k]
	}
	if classes == 2 {
		return []string{"negative", "positive"}[k]
	}
	return fmt.Sprintf("class %d", k)
}

func runClassify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("classify", "", classifyAbout, stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint of a tree model (.safetensors)")
	png := fs.String("png", "", "draw each tree into this PNG file")
	parser := fs.String("parser", "auto", "auto (link-grammar when installed), link-grammar or right-branching")
	if help, err := parseOnlyFlags(fs, args, "classify"); help || err != nil {
		return err
	}
	switch *parser {
	case "auto", "link-grammar", "right-branching":
	default:
		return usageError{fmt.Sprintf("classify: -parser %q: want auto, link-grammar or right-branching", *parser)}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["png"] {
		if err := checks("classify", nonEmpty("png", *png)); err != nil {
			return err
		}
		if err := outputFile("png", *png); err != nil {
			return errors.Wrap(err, "classify")
		}
	}
	tr, m, err := openModel[*training.Tree]("classify", *ckpt, "a tree model (rnnkit train -preset sst-…)")
	if err != nil {
		return err
	}
	defer tr.Close()
	C := m.Cfg.Classes
	sp := sentenceParser{label: C / 2}
	if *parser != "right-branching" {
		path, err := exec.LookPath(linkParser)
		switch {
		case err == nil:
			sp.link = path
			fmt.Fprintf(stderr, "classify: parsing sentences with link-grammar (%s)\n", path)
		case *parser == "link-grammar":
			return errors.Errorf("classify: -parser link-grammar: %v (Debian: apt-get install link-grammar)", err)
		default:
			fmt.Fprintln(stderr, "classify: link-parser not found: right-branching trees (Debian: apt-get install link-grammar)")
		}
	} else {
		fmt.Fprintln(stderr, "classify: right-branching trees (-parser right-branching)")
	}
	binary := m.Cfg.Net == training.TreeNetRNN || m.Cfg.Net == training.TreeNetLSTM
	names := make([]string, C)
	for k := range names {
		names[k] = className(k, C)
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), tree.MaxLineBytes)
	line, drawn := 0, 0
	for sc.Scan() {
		line++
		if err := ctx.Err(); err != nil {
			return err
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			fmt.Fprintln(stdout)
			continue
		}
		var t *tree.Node
		if strings.HasPrefix(text, "(") {
			if t, err = tree.Parse(text, C); err != nil {
				return errors.Wrapf(err, "classify: standard input, line %d", line)
			}
		} else if t, err = sp.parse(ctx, text, binary, stderr); err != nil {
			return errors.Wrapf(err, "classify: standard input, line %d", line)
		}
		set, err := m.Phrases([]*tree.Node{t})
		if err != nil {
			return errors.Wrapf(err, "classify: standard input, line %d", line)
		}
		if _, err := tr.Evaluate(ctx, set); err != nil {
			return errors.Wrapf(err, "classify: standard input, line %d", line)
		}
		probs := set.Probs(0)
		pred := predicted(t, probs)
		root := probs[len(probs)-1]
		k := argmaxOf(root)
		ps := make([]string, len(root))
		for i, p := range root {
			ps[i] = fmt.Sprintf("%.3f", p)
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", names[k], strings.Join(ps, " "), pred)
		if *png != "" {
			drawn++
			title := fmt.Sprintf("%s → %s (%.2f)", clipText(strings.Join(t.Words(), " "), 90), names[k], root[k])
			if err := plot.Tree(pngPath(*png, drawn), title, plotTree(pred), names); err != nil {
				return errors.Wrapf(err, "classify: -png")
			}
		}
	}
	return errors.Wrap(sc.Err(), "classify: reading standard input")
}

// predicted returns a copy of t whose every node's label is its predicted
// class.
func predicted(t *tree.Node, probs [][]float64) *tree.Node {
	copies := map[*tree.Node]*tree.Node{}
	for i, n := range t.PostOrder() {
		c := &tree.Node{Label: argmaxOf(probs[i]), Word: n.Word}
		for _, k := range n.Children {
			c.Children = append(c.Children, copies[k])
		}
		copies[n] = c
	}
	return copies[t]
}

// plotTree converts a tree whose labels are classes for plot.Tree.
func plotTree(t *tree.Node) *plot.TreeNode {
	copies := map[*tree.Node]*plot.TreeNode{}
	for _, n := range t.PostOrder() {
		c := &plot.TreeNode{Word: n.Word, Class: n.Label}
		for _, k := range n.Children {
			c.Children = append(c.Children, copies[k])
		}
		copies[n] = c
	}
	return copies[t]
}

func argmaxOf(p []float64) int {
	k := 0
	for i, v := range p {
		if v > p[k] {
			k = i
		}
	}
	return k
}

// clipText shortens s to n characters with "…".
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
