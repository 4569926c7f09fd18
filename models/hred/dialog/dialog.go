package dialog

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// EOU is DailyDialog's end-of-utterance marker.
const EOU = "__eou__"

// Limits of [Read] (see [Options]).
const (
	// MaxLineBytes is the default longest line: DailyDialog's longest is
	// under 8 KiB.
	MaxLineBytes = 1 << 20
	// MaxDialogues is the default largest number of dialogues.
	MaxDialogues = 10_000_000
)

// Dialogue is the utterances of one conversation in order, each a
// non-empty string of tokens separated by single spaces.
type Dialogue []string

// Options changes what [Read] accepts; the zero value is the defaults.
type Options struct {
	// AllowSingle accepts dialogues of one utterance.
	AllowSingle bool
	// MaxLineBytes bounds a line (0: MaxLineBytes).
	MaxLineBytes int
	// MaxDialogues bounds the number of dialogues (0: MaxDialogues).
	MaxDialogues int
}

// Read reads dialogues in DailyDialog's format (see the package doc for
// what it refuses and what it skips).
func Read(r io.Reader, opt Options) ([]Dialogue, error) {
	ds, err := read(r, opt)
	return ds, errors.Wrap(err, "dialog")
}

func read(r io.Reader, opt Options) ([]Dialogue, error) {
	maxLine := opt.MaxLineBytes
	if maxLine <= 0 {
		maxLine = MaxLineBytes
	}
	maxDia := opt.MaxDialogues
	if maxDia <= 0 {
		maxDia = MaxDialogues
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var out []Dialogue
	for line := 1; ; line++ {
		b, err := readLine(br, maxLine)
		if err == errLong {
			return nil, formatf("line %d: longer than %d bytes", line, maxLine)
		}
		if err != nil && err != io.EOF {
			return nil, errors.Wrapf(err, "line %d", line)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			d, perr := parseLine(b, opt.AllowSingle)
			if perr != nil {
				return nil, errors.Wrapf(perr, "line %d", line)
			}
			if len(out) == maxDia {
				return nil, formatf("line %d: more than %d dialogues", line, maxDia)
			}
			out = append(out, d)
		}
		if err == io.EOF {
			return out, nil
		}
	}
}

// ReadFile reads the dialogues of a file (see [Read]); errors name it.
func ReadFile(path string, opt Options) ([]Dialogue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "dialog")
	}
	defer f.Close()
	ds, err := read(f, opt)
	if err != nil {
		return nil, errors.Wrapf(err, "dialog: %s", path)
	}
	return ds, nil
}

var errLong = errors.New("line too long")

// readLine returns the next line without its "\n" (and "\r"), io.EOF with
// the last one, errLong past max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		n := len(line)
		if n > 0 && line[n-1] == '\n' {
			n--
		}
		if n > max {
			return nil, errLong
		}
		switch err {
		case nil:
			return bytes.TrimRight(line, "\r\n"), nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return bytes.TrimRight(line, "\r\n"), io.EOF
		default:
			return nil, err
		}
	}
}

// parseLine parses one non-blank line into a dialogue.
func parseLine(b []byte, allowSingle bool) (Dialogue, error) {
	if !utf8.Valid(b) {
		return nil, formatf("not valid UTF-8")
	}
	parts := strings.Split(string(b), EOU)
	if len(parts) == 1 {
		return nil, formatf("no %q marker (each utterance ends with \" %s\")", EOU, EOU)
	}
	if rest := strings.TrimSpace(parts[len(parts)-1]); rest != "" {
		return nil, formatf("text after the last %s: %.40q (a missing %q?)", EOU, rest, " "+EOU)
	}
	d := make(Dialogue, 0, len(parts)-1)
	for i, p := range parts[:len(parts)-1] {
		u := strings.Join(strings.Fields(p), " ")
		if u == "" {
			return nil, formatf("utterance %d is empty", i+1)
		}
		d = append(d, u)
	}
	if len(d) < 2 && !allowSingle {
		return nil, formatf("a dialogue of one utterance (a reply needs a context)")
	}
	return d, nil
}

// Write writes dialogues in DailyDialog's format, one a line; [Read]
// reads them back. An utterance that is empty, holds a newline or the
// marker is an error.
func Write(w io.Writer, ds []Dialogue) error {
	bw := bufio.NewWriter(w)
	for i, d := range ds {
		for j, u := range d {
			if strings.TrimSpace(u) == "" || strings.ContainsAny(u, "\r\n") || strings.Contains(u, EOU) {
				return formatf("dialogue %d utterance %d: empty, or holds a newline or %s", i+1, j+1, EOU)
			}
			bw.WriteString(u)
			bw.WriteString(" " + EOU + " ")
		}
		bw.WriteString("\n")
	}
	return errors.Wrap(bw.Flush(), "dialog")
}

// Split returns a 90/10 split by dialogue: every tenth dialogue (index 9,
// 19, …) is in test, the others in train, in their order. It copies no
// dialogue.
func Split(ds []Dialogue) (train, test []Dialogue) {
	for i, d := range ds {
		if i%10 == 9 {
			test = append(test, d)
		} else {
			train = append(train, d)
		}
	}
	return train, test
}

// Texts returns every utterance of ds (for building a vocabulary).
func Texts(ds []Dialogue) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d...)
	}
	return out
}
