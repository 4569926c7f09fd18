package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries an exit status and a message already printed (or none).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"demo":      {"the main job: a small date-format Seq2Seq run with attention (a few minutes)", runDemo},
	"recall":    {"an LSTM learns delayed recall by backpropagation through time (a minute)", runRecall},
	"parity":    {"check models against PyTorch reference fixtures (outputs, states, gradients)", runParity},
	"train":     {"train a preset experiment (rnnkit train -list) with metrics, plots and checkpoints", runTrain},
	"eval":      {"evaluate any checkpoint of rnnkit train on a data file (-json: one JSON object)", runEval},
	"translate": {"answer questions from standard input with a trained Seq2Seq checkpoint", runTranslate},
	"gradflow":  {"how far back in time each cell's gradient reaches, as a table and a PNG", runGradflow},
	"sample":    {"generate text from a trained language model checkpoint", runSample},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: rnnkit <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'rnnkit <command> -h' for a command's flags.")
}

// run is the whole program; main only maps its error to an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, argsUsage, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rnnkit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: rnnkit %s [flags] %s\n\n%s\n\nflags:\n", name, argsUsage, about)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning -h into a clean exit and errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, usageError{err.Error()}
	}
	return false, nil
}

// parseOnlyFlags is parseFlags for a command that takes no arguments.
func parseOnlyFlags(fs *flag.FlagSet, args []string, cmd string) (help bool, err error) {
	if help, err := parseFlags(fs, args); help || err != nil {
		return help, err
	}
	if fs.NArg() != 0 {
		return false, usageError{fmt.Sprintf("%s: unexpected argument %q", cmd, fs.Arg(0))}
	}
	return false, nil
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	var e exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

// realMain is main but for the exit: SIGINT and SIGTERM cancel the
// context (train then stops after the current step with a checkpoint),
// an error is printed as "rnnkit: …", and the exit status is returned.
func realMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, args, stdout, stderr)
	if err != nil && strings.TrimSpace(err.Error()) != "" {
		fmt.Fprintln(stderr, "rnnkit:", err)
	}
	return exitCode(err)
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}
