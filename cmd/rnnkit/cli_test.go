package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/training/checkpoint"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the CLI table in docs/reliability.md")

// The values a flag of each kind is tried with. Placeholders: {missing} a
// path that does not exist, {dir} a directory, {file} a file. A bool flag
// is given as -flag=value.
var boundaryValues = map[string][]string{
	"int":     {"0", "-1", "99999999999", "x", ""},
	"uint":    {"0", "-1", "99999999999", "x", ""},
	"float":   {"0", "-1", "1e300", "NaN", "x", ""},
	"string":  {"", "x"},
	"bool":    {"x", ""},
	"in":      {"", "{missing}", "{dir}"},
	"outdir":  {"", "{file}"},
	"outfile": {"", "{dir}", "{file}/g.png", "{missing}/g.png"},
}

// flagSpec is a flag and the exit status of each of its kind's values, one
// character a value: a digit, or 'a' for 0 and 'b' for 1 after a real run
// (a heavy row, skipped under -short).
type flagSpec struct {
	flag, kind, codes string
	want              string // in the message; "" means the flag ("-name")
}

// cliCommand is a command's rows: its flags at every boundary value on top
// of valid, quick base arguments, and rows of its own.
type cliCommand struct {
	name  string // the command, and for train the preset
	base  []string
	stdin string
	flags []flagSpec
	rows  []cliRow
}

// cliRow is one invocation: a command with one flag (or argument) at a
// boundary value.
type cliRow struct {
	cmd   string
	flag  string // "" for an argument
	value string
	code  int
	want  string
	heavy bool
	args  []string
	stdin string
}

// common are the flags every train preset has, with their exit statuses.
var trainCommon = []flagSpec{
	{"keep", "int", "22222", ""}, {"checkpoint-every", "int", "a2222", ""}, {"log-every", "int", "22222", ""},
	{"epochs", "int", "22222", ""}, {"lr-step", "int", "a2222", ""}, {"plateau", "int", "a2222", ""}, {"early-stop", "int", "a2222", ""},
	{"lr", "float", "22b222", ""}, {"clip", "float", "a2a222", ""}, {"lr-gamma", "float", "222222", ""}, {"plateau-factor", "float", "222222", ""},
	{"seed", "uint", "a2a22", ""}, {"optimizer", "string", "22", ""}, {"dtype", "string", "22", ""}, {"preset", "string", "22", ""},
	{"list", "bool", "22", ""}, {"resume", "bool", "22", ""}, {"overwrite", "bool", "22", ""}, {"skip-nonfinite", "bool", "22", ""},
	{"init-embedding", "in", "222", ""},
	{"out", "outdir", "21", ""},
	{"batch", "int", "22222", ""}, {"hidden", "int", "22222", ""}, {"embed", "int", "22222", ""}, {"layers", "int", "22222", ""},
	{"cell", "string", "22", ""},
}

// moreCLICommands holds the rows of commands defined in files of their own:
// a command's test file appends a function in its init, so adding a
// command adds its rows without touching this file.
var moreCLICommands []func(fx fixtureFiles) []cliCommand

func cliCommands(fx fixtureFiles) []cliCommand {
	out := baseCLICommands(fx)
	for _, f := range moreCLICommands {
		out = append(out, f(fx)...)
	}
	return out
}

func baseCLICommands(fx fixtureFiles) []cliCommand {
	tiny := []string{"-epochs", "1", "-hidden", "4", "-embed", "4", "-log-every", "1000", "-out", "{out}"}
	return []cliCommand{
		{name: "train addition", base: append([]string{"train", "-preset", "addition", "-examples", "40", "-batch", "8"}, tiny...),
			flags: append(append([]flagSpec(nil), trainCommon...),
				flagSpec{"decoder", "string", "22", ""}, flagSpec{"score", "string", "22", ""}, flagSpec{"reverse", "bool", "22", ""},
				flagSpec{"examples", "int", "22222", ""}),
			rows: []cliRow{
				{flag: "data", value: "", code: 2, want: "-data", args: []string{"examples"}},
				{flag: "data", value: "{missing}", code: 1, want: "-data", args: []string{"examples"}},
				{flag: "data", value: "{dir}", code: 1, want: "-data", args: []string{"examples"}},
				{flag: "data", value: fx.corpus, code: 2, want: "-examples"},
				{flag: "resume", value: "=true", code: 1, want: "-resume"},
				{flag: "list", value: "=true", code: 0},
				{flag: "score", value: "general", code: 2, want: "-score"},
			}},
		{name: "train charlm", base: append([]string{"train", "-preset", "charlm", "-data", fx.corpus, "-batch", "2", "-bptt", "8"}, tiny...),
			flags: append(append([]flagSpec(nil), trainCommon...), flagSpec{"bptt", "int", "22222", ""}, flagSpec{"data", "in", "211", ""}),
			rows: []cliRow{
				{flag: "examples", value: "10", code: 2, want: "-examples does not apply to the charlm preset"},
				{flag: "decoder", value: "plain", code: 2, want: "-decoder does not apply"},
				{flag: "score", value: "dot", code: 2, want: "-score does not apply"},
				{flag: "reverse", value: "=true", code: 2, want: "-reverse does not apply"},
				{flag: "data", value: "(absent)", code: 2, want: "needs -data"},
			}},
		{name: "eval", base: []string{"eval", "-checkpoint", fx.s2s, "-data", fx.dates},
			flags: []flagSpec{{"checkpoint", "in", "211", ""}, {"data", "in", "211", ""}, {"json", "bool", "22", ""}},
			rows: []cliRow{
				{flag: "iw-samples", value: "3", code: 2, want: "-iw-samples applies to a checkpoint with a latent variable (vhred, sentence-vae), not a seq2seq model"},
				{flag: "iw-samples", value: "x", code: 2, want: "-iw-samples"},
			}},
		{name: "translate", base: []string{"translate", "-checkpoint", fx.s2s}, stdin: "7+8\n",
			flags: []flagSpec{{"checkpoint", "in", "211", ""}, {"beam", "int", "02222", ""}, {"temperature", "float", "020222", ""},
				{"topk", "int", "02022", ""}, {"topp", "float", "022222", ""}, {"seed", "uint", "02022", ""}, {"maxlen", "int", "02222", ""}}},
		{name: "sample", base: []string{"sample", "-checkpoint", fx.lm, "-length", "5"},
			flags: []flagSpec{{"checkpoint", "in", "211", ""}, {"prime", "string", "20", ""}, {"length", "int", "22222", ""},
				{"temperature", "float", "020222", ""}, {"topk", "int", "02022", ""}, {"topp", "float", "022222", ""}, {"seed", "uint", "02022", ""}}},
		{name: "parity", base: []string{"parity", fixtures("gru")[0]},
			flags: []flagSpec{{"tol", "float", "120222", ""}, {"v", "bool", "22", ""}, {"fused", "bool", "22", ""}},
			rows: []cliRow{
				{value: "", code: 2, want: "no such file"},
				{value: "{missing}", code: 2, want: "no such file"},
				{value: "{dir}", code: 2, want: "is a directory"},
				{value: "{file}", code: 2, want: "afile.txt"},
			}},
		{name: "gradflow", base: []string{"gradflow", "-steps", "4", "-hidden", "4", "-batch", "2", "-cell", "rnn", "-out", "{row}/g.png"},
			flags: []flagSpec{{"cell", "string", "22", ""}, {"steps", "int", "22222", ""}, {"hidden", "int", "22222", ""},
				{"batch", "int", "22222", ""}, {"vocab", "int", "22222", ""}, {"seed", "uint", "02022", ""},
				{"forget-bias", "float", "002222", ""}, {"out", "outfile", "2111", ""}}},
		{name: "recall", base: []string{"recall", "-steps", "4", "-delay", "1", "-vocab", "3", "-batch", "2", "-hidden", "4", "-iters", "2", "-every", "1"},
			flags: []flagSpec{{"cell", "string", "22", ""}, {"vocab", "int", "22222", ""}, {"delay", "int", "02222", ""},
				{"steps", "int", "22222", ""}, {"batch", "int", "22222", ""}, {"hidden", "int", "22222", ""}, {"iters", "int", "22222", ""},
				{"every", "int", "22222", ""}, {"lr", "float", "221222", ""}, {"clip", "float", "020222", ""}, {"seed", "uint", "02022", ""},
				{"seconds", "float", "020222", ""}}},
		{name: "demo", base: []string{"demo", "-examples", "20", "-epochs", "1", "-out", "{out}"},
			flags: []flagSpec{{"examples", "int", "22222", ""}, {"epochs", "int", "22222", ""}, {"lr", "float", "22b222", ""},
				{"out", "outdir", "21", ""}, {"seed", "uint", "a2a22", ""}}},
	}
}

// fixtureFiles are the files the rows read: checkpoints, data, and the
// placeholders' paths.
type fixtureFiles struct {
	dir, s2s, lm, dates, corpus string
}

// expand replaces the placeholders of a value; {row} is the row's own
// directory, {out} a directory in it.
func (fx fixtureFiles) expand(v, row string) string {
	r := strings.NewReplacer("{missing}", filepath.Join(fx.dir, "missing"), "{dir}", filepath.Join(fx.dir, "adir"),
		"{file}", filepath.Join(fx.dir, "afile.txt"), "{out}", filepath.Join(row, "out"), "{row}", row)
	return r.Replace(v)
}

// expand returns the command's rows.
func (c cliCommand) expand(t *testing.T) []cliRow {
	var out []cliRow
	for _, f := range c.flags {
		values := boundaryValues[f.kind]
		if len(values) != len(f.codes) {
			t.Fatalf("%s -%s: %d codes for %d values", c.name, f.flag, len(f.codes), len(values))
		}
		for i, v := range values {
			r := cliRow{cmd: c.name, flag: f.flag, value: v, want: f.want}
			switch ch := f.codes[i]; ch {
			case 'a', 'b':
				r.code, r.heavy = int(ch-'a'), true
			default:
				r.code = int(ch - '0')
			}
			if f.kind == "bool" {
				r.value = "=" + v
			}
			out = append(out, r)
		}
	}
	for _, r := range c.rows {
		r.cmd = c.name
		out = append(out, r)
	}
	for i := range out {
		r := &out[i]
		if r.want == "" && r.code != 0 {
			r.want = "-" + r.flag
		}
		r.heavy = r.heavy || r.code == 0 && (strings.HasPrefix(c.name, "train") || c.name == "demo") && r.flag != "list"
		r.args = c.argsOf(*r)
		if r.stdin == "" {
			r.stdin = c.stdin
		}
	}
	return out
}

// argsOf returns a row's command line, placeholders unexpanded: the base
// flags with the row's flag set (replaced where the base has it) and the
// flags in r.args removed, then the base's arguments, or for an argument
// row the row's value.
func (c cliCommand) argsOf(r cliRow) []string {
	drop := map[string]bool{}
	for _, f := range r.args {
		drop["-"+f] = true
	}
	if r.value == "(absent)" {
		drop["-"+r.flag] = true
	}
	flags, positional := []string{c.base[0]}, []string{}
	replaced := false
	for i := 1; i < len(c.base); i++ {
		a := c.base[i]
		switch {
		case !strings.HasPrefix(a, "-"):
			positional = append(positional, a)
		case drop[a]:
			i++
		case r.flag != "" && a == "-"+r.flag && !strings.HasPrefix(r.value, "="):
			flags, replaced = append(flags, a, r.value), true
			i++
		default:
			flags = append(flags, a, c.base[i+1])
			i++
		}
	}
	switch {
	case r.flag == "":
		positional = []string{r.value}
	case r.value == "(absent)", replaced:
	case strings.HasPrefix(r.value, "="):
		flags = append(flags, "-"+r.flag+r.value)
	default:
		flags = append(flags, "-"+r.flag, r.value)
	}
	return append(flags, positional...)
}

// makeFixtures trains a tiny Seq2Seq and language model and writes the
// files the rows read.
func makeFixtures(t *testing.T) fixtureFiles {
	t.Helper()
	dir := t.TempDir()
	fx := fixtureFiles{dir: dir, dates: filepath.Join(dir, "dates.txt"), corpus: filepath.Join(dir, "corpus.txt")}
	for name, text := range map[string]string{
		"corpus.txt": strings.Repeat("to be or not to be. ", 60), "afile.txt": "a file\n",
		"dates.txt": "september 27, 1994_1994-09-27\nJun 4 2004_2004-06-04\n12/31/99_1999-12-31\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		path *string
		args []string
	}{
		{&fx.s2s, tinyArgs(filepath.Join(dir, "s2s"))},
		{&fx.lm, tinyLMArgs(filepath.Join(dir, "lm"), fx.corpus)},
	} {
		if so, se, code := runCmd(t, m.args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", m.args, code, so, se)
		}
		*m.path = filepath.Join(m.args[len(m.args)-3], checkpoint.BestName)
	}
	return fx
}

// Every command with each of its flags at boundary values: exit status 2
// for a usage error and 1 otherwise, a message naming the flag, never a
// panic, and no file written. The rows are docs/reliability.md's table
// (go test ./cmd/rnnkit -run TestCLIBoundaries -update-docs rewrites it).
func TestCLIBoundaries(t *testing.T) {
	fx := makeFixtures(t)
	before := dirState(t, fx.dir)
	var rows []cliRow
	for _, c := range cliCommands(fx) {
		rows = append(rows, c.expand(t)...)
	}
	defer func() { stdin = os.Stdin }()
	for i, r := range rows {
		if r.heavy && testing.Short() {
			continue
		}
		rowDir := t.TempDir()
		args := make([]string, len(r.args))
		for j, a := range r.args {
			args[j] = fx.expand(a, rowDir)
		}
		stdin = strings.NewReader(r.stdin)
		so, se, code, panicked := runRecovering(t, args)
		name := fmt.Sprintf("row %d: %s -%s %q", i+1, r.cmd, r.flag, r.value)
		switch {
		case panicked != "":
			t.Errorf("%s: panic %s", name, panicked)
		case code != r.code:
			t.Errorf("%s: exit %d, want %d\n%v\nstdout: %.300s\nstderr: %.600s", name, code, r.code, args, so, se)
		case r.code != 0 && !strings.Contains(so+se, r.want):
			t.Errorf("%s: the message does not say %q\n%v\nstderr: %.600s", name, r.want, args, se)
		}
		noCrash(t, name, se)
		if r.code != 0 && !r.heavy {
			if ents, _ := os.ReadDir(rowDir); len(ents) != 0 {
				t.Errorf("%s: failed, and wrote %s", name, ents[0].Name())
			}
		}
	}
	sameDir(t, "the table's rows", before, dirState(t, fx.dir))
	checkDocsTable(t, rows)
}

// runRecovering runs the command in-process and reports a panic instead
// of crashing.
func runRecovering(t *testing.T, args []string) (so, se string, code int, panicked string) {
	defer func() {
		if p := recover(); p != nil {
			panicked = fmt.Sprint(p)
		}
	}()
	so, se, code = runCmd(t, args...)
	return so, se, code, ""
}

// docsValue is how docs/reliability.md shows a value.
func docsValue(v string) string {
	switch v {
	case "(absent)":
		return "absent"
	case "":
		return "`\"\"`"
	case "=":
		return "`=` (empty)"
	}
	for _, p := range []struct{ v, say string }{
		{"{missing}/g.png", "a path in a missing directory"}, {"{file}/g.png", "a path under a file"},
		{"{missing}", "a missing file"}, {"{dir}", "a directory"}, {"{file}", "a file"},
	} {
		if v == p.v {
			return p.say
		}
	}
	if filepath.IsAbs(v) {
		return "a text file"
	}
	return "`" + v + "`"
}

const docsBegin, docsEnd = "<!-- cli-table: begin -->", "<!-- cli-table: end -->"

// checkDocsTable compares the table in docs/reliability.md with the rows
// (or, with -update-docs, writes it).
func checkDocsTable(t *testing.T, rows []cliRow) {
	t.Helper()
	var b strings.Builder
	b.WriteString(docsBegin + "\n| # | command | flag | value | exit | message says |\n|---|---|---|---|---|---|\n")
	for i, r := range rows {
		flag := "-" + r.flag
		if r.flag == "" {
			flag = "(argument)"
		}
		want := "`" + r.want + "`"
		if r.code == 0 {
			want = "—"
		}
		heavy := ""
		if r.heavy {
			heavy = " (runs)"
		}
		fmt.Fprintf(&b, "| %d | %s | `%s` | %s | %d%s | %s |\n", i+1, r.cmd, flag, docsValue(r.value), r.code, heavy, want)
	}
	b.WriteString(docsEnd)
	path := filepath.Join("..", "..", "docs", "reliability.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, docsBegin), strings.Index(s, docsEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s … %s block", path, docsBegin, docsEnd)
	}
	if got := s[i : j+len(docsEnd)]; got != b.String() {
		if *updateDocs {
			if err := os.WriteFile(path, []byte(s[:i]+b.String()+s[j+len(docsEnd):]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the CLI table in %s is not the test's (%d rows); run go test ./cmd/rnnkit -run TestCLIBoundaries -update-docs", path, len(rows))
	}
}
