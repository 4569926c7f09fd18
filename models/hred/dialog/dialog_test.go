package dialog

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func TestReadGood(t *testing.T) {
	in := "Hi there . __eou__ Hello !  __eou__ How are you ? __eou__\n\n  \nA . __eou__ B . __eou__\r\n"
	ds, err := Read(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Dialogue{{"Hi there .", "Hello !", "How are you ?"}, {"A .", "B ."}}
	if len(ds) != len(want) {
		t.Fatalf("got %d dialogues, want %d", len(ds), len(want))
	}
	for i := range want {
		if strings.Join(ds[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("dialogue %d = %q, want %q", i, ds[i], want[i])
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, ds); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf, Options{})
	if err != nil || len(back) != 2 || strings.Join(back[0], "|") != strings.Join(ds[0], "|") {
		t.Fatalf("Write/Read round trip: %q, %v", back, err)
	}
}

func TestReadBad(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		opt            Options
	}{
		{"no marker", "A . __eou__ B . __eou__\nhello there\n", "line 2: no \"__eou__\" marker", Options{}},
		{"missing last marker", "A . __eou__ B .\n", "line 1: text after the last __eou__", Options{}},
		{"empty utterance", "A . __eou__ __eou__ B . __eou__\n", "line 1: utterance 2 is empty", Options{}},
		{"single", "\nA . __eou__\n", "line 2: a dialogue of one utterance", Options{}},
		{"long", "A . __eou__ B . __eou__\n" + strings.Repeat("x", 100) + " __eou__ y __eou__\n", "line 2: longer than 50 bytes", Options{MaxLineBytes: 50}},
		{"utf8", "A \xff . __eou__ B . __eou__\n", "line 1: not valid UTF-8", Options{}},
		{"too many", "A __eou__ B __eou__\nA __eou__ B __eou__\n", "line 2: more than 1 dialogues", Options{MaxDialogues: 1}},
	} {
		_, err := Read(strings.NewReader(c.in), c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want one holding %q and wrapping ErrFormat", c.name, err, c.want)
		}
	}
	ds, err := Read(strings.NewReader("A . __eou__\n"), Options{AllowSingle: true})
	if err != nil || len(ds) != 1 || len(ds[0]) != 1 {
		t.Errorf("AllowSingle: %q, %v", ds, err)
	}
	if err := Write(&bytes.Buffer{}, []Dialogue{{"a", "b __eou__ c"}}); !errors.Is(err, ErrFormat) {
		t.Errorf("Write of an utterance holding the marker: %v", err)
	}
}

func TestSplit(t *testing.T) {
	var ds []Dialogue
	for i := range 25 {
		ds = append(ds, Dialogue{string(rune('a' + i)), "x"})
	}
	train, test := Split(ds)
	if len(train) != 23 || len(test) != 2 || test[0][0] != "j" || test[1][0] != "t" {
		t.Fatalf("split %d/%d, test %q", len(train), len(test), test)
	}
}

// The shared copy of DailyDialog's validation split reads as 1,000
// dialogues of at least two utterances.
func TestReadDailyDialogValidation(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "dailydialog", "validation.txt")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("DailyDialog is not here (%v): skipping", err)
	}
	ds, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	turns := 0
	for _, d := range ds {
		turns += len(d)
	}
	if len(ds) != 1000 || turns != 8069 {
		t.Fatalf("%d dialogues, %d utterances; want 1000 and 8069", len(ds), turns)
	}
	train, test := Split(ds)
	if len(train) != 900 || len(test) != 100 {
		t.Fatalf("split %d/%d", len(train), len(test))
	}
}

func TestSynthetic(t *testing.T) {
	ds := Synthetic(200, newRand(3), SynthOptions{})
	again := Synthetic(200, newRand(3), SynthOptions{})
	answers := map[string]bool{}
	for i, d := range ds {
		if strings.Join(d, "|") != strings.Join(again[i], "|") {
			t.Fatal("the same seed gave other dialogues")
		}
		if len(d) < 4 || len(d) > 6 {
			t.Fatalf("dialogue %d has %d turns: %q", i, len(d), d)
		}
		a := SynthAnswer(d)
		if a == "" || d[len(d)-1] != a+" ." {
			t.Fatalf("dialogue %d: answer %q, last turn %q", i, a, d[len(d)-1])
		}
		// No turn but the first and the last names the value.
		for _, u := range d[1 : len(d)-1] {
			if strings.Contains(" "+u+" ", " "+a+" ") {
				t.Fatalf("dialogue %d: turn %q names the answer", i, u)
			}
		}
		answers[a] = true
	}
	if len(answers) < 20 {
		t.Errorf("only %d distinct answers in 200 dialogues", len(answers))
	}
	var buf bytes.Buffer
	if err := Write(&buf, ds); err != nil {
		t.Fatal(err)
	}
	if back, err := Read(&buf, Options{}); err != nil || len(back) != len(ds) {
		t.Fatalf("synthetic dialogues do not read back: %d, %v", len(back), err)
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"Hi . __eou__ Hello . __eou__\n", "A __eou__\n", "A __eou__ B", "__eou__ __eou__", "\n\n", "x\xff __eou__ y __eou__",
		"A __eou__ B __eou__\r\nC __eou__ D __eou__ E __eou__ \n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := Read(strings.NewReader(s), Options{MaxLineBytes: 4096})
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		for _, d := range ds {
			if len(d) < 2 {
				t.Fatalf("a dialogue of %d utterances", len(d))
			}
			for _, u := range d {
				if u == "" || strings.Contains(u, EOU) || u != strings.Join(strings.Fields(u), " ") {
					t.Fatalf("utterance %q", u)
				}
			}
		}
		var buf bytes.Buffer
		if err := Write(&buf, ds); err != nil {
			t.Fatal(err)
		}
		back, err := Read(&buf, Options{MaxLineBytes: 1 << 20})
		if err != nil || len(back) != len(ds) {
			t.Fatalf("round trip: %d dialogues, %v; want %d", len(back), err, len(ds))
		}
	})
}
