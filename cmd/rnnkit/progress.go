package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports training steps: a bar redrawn in place on a terminal,
// plain log lines every `every` steps otherwise (a file or a pipe).
type progress struct {
	w        io.Writer
	terminal bool
	every    int
	start    time.Time
	last     time.Time
}

// newProgress returns a progress report to w, a line every `every` steps
// (at least 1) when w is no terminal.
func newProgress(w io.Writer, every int) *progress {
	p := &progress{w: w, every: max(every, 1), start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// step reports that step of `of` is done with the running mean loss.
func (p *progress) step(epoch, step, of int, loss float64) {
	elapsed := time.Since(p.start)
	if !p.terminal {
		if step%p.every == 0 || step == of {
			fmt.Fprintf(p.w, "epoch %d  step %d/%d  loss %.4f  %.1fs\n", epoch, step, of, loss, elapsed.Seconds())
		}
		return
	}
	if of < 1 || step != of && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 30
	done := width * step / of
	eta := time.Duration(float64(elapsed) / float64(step) * float64(of-step)).Round(time.Second)
	fmt.Fprintf(p.w, "\repoch %d [%s%s] %d/%d loss %.4f eta %v ", epoch, strings.Repeat("=", done), strings.Repeat(" ", width-done), step, of, loss, eta)
	if step == of {
		fmt.Fprintln(p.w)
	}
}
