package main

import (
	"math"
	"os"
	"path/filepath"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training/preset"
)

// Limits of the commands' flags, beyond which a run could not fit in
// memory or would not end.
const (
	maxSteps    = 10_000 // time steps of recall and gradflow
	maxIters    = 1_000_000_000
	maxDecode   = 10_000    // translate's -maxlen
	maxBeam     = 1_000     // translate's -beam
	maxSample   = 100_000   // sample's -length
	maxVocab    = 100_000   // symbols of recall and gradflow
	maxGradflow = 4096      // gradflow's -hidden and -batch
	maxKeep     = 1_000_000 // train's -keep
	maxEvery    = 1 << 30   // train's -log-every and -checkpoint-every
)

// checks returns the first of errs as a usage error of the command cmd.
func checks(cmd string, errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return usageError{cmd + ": " + err.Error()}
		}
	}
	return nil
}

// intIn is an error naming the flag when v is not in [lo, hi].
func intIn(flag string, v, lo, hi int) error { return preset.IntIn(flag, v, lo, hi) }

// floatIn is an error naming the flag when v is not a finite number in
// [lo, hi].
func floatIn(flag string, v, lo, hi float64) error {
	if !(v >= lo && v <= hi) || math.IsInf(v, 0) {
		return errors.Errorf("-%s %v: want a finite number from %g to %g", flag, v, lo, hi)
	}
	return nil
}

// positive is an error naming the flag when v is not finite and above 0.
func positive(flag string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return errors.Errorf("-%s %v: want a finite number above 0", flag, v)
	}
	return nil
}

// nonEmpty is an error naming the flag when v is empty.
func nonEmpty(flag, v string) error {
	if v == "" {
		return errors.Errorf("-%s is empty", flag)
	}
	return nil
}

// inputFile is an error naming the flag (exit status 1) when path is no
// file to read: missing, or a directory.
func inputFile(flag, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return errors.Wrapf(err, "-%s", flag)
	}
	if fi.IsDir() {
		return errors.Errorf("-%s %s is a directory, not a file", flag, path)
	}
	return nil
}

// inputDir is an error naming the flag (exit status 1) when path is no
// directory to read from: missing, or a file.
func inputDir(flag, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return errors.Wrapf(err, "-%s", flag)
	}
	if !fi.IsDir() {
		return errors.Errorf("-%s %s is a file, not a directory", flag, path)
	}
	return nil
}

// outputFile is an error naming the flag (exit status 1) when a file
// cannot be written at path: it is a directory, or its directory is
// missing or a file.
func outputFile(flag, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.Errorf("-%s %s is a directory, not a file", flag, path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return errors.Wrapf(err, "-%s: its directory", flag)
	}
	if !fi.IsDir() {
		return errors.Errorf("-%s %s: %s is a file, not a directory", flag, path, dir)
	}
	return nil
}

// outputDir is an error naming the flag (exit status 1) when path exists
// and is no directory.
func outputDir(flag, path string) error {
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return errors.Errorf("-%s %s is a file, not a directory", flag, path)
	}
	return nil
}
