package checkpoint

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// FormatVersion is the version of the file format that [Save] writes, stored
// under the metadata key "format_version". [Load] reads this version and
// refuses any other with [ErrVersion].
const FormatVersion = 1

// MaxHeader is the largest header length, in bytes, that [Load] accepts. It
// is checked before the header is read, so a damaged length field cannot make
// Load allocate more; [Save] refuses a checkpoint whose header would be longer.
const MaxHeader = 16 << 20

// StatePrefix is the prefix of the tensor names under which [Save] stores
// the entries of [Checkpoint.State]; parameter names may not start with it.
const StatePrefix = "state/"

// maxDims is the largest number of dimensions of a stored tensor.
const maxDims = 32

var (
	// ErrCorrupt is wrapped by every error of [Load] about a file that is
	// damaged or is not an rnnkit checkpoint: truncated, a bad header, bad
	// offsets, an unknown dtype, a checksum mismatch.
	ErrCorrupt = errors.New("corrupt or not an rnnkit checkpoint")
	// ErrVersion is wrapped by the error of [Load] about a file of a format
	// version this package does not read.
	ErrVersion = errors.New("unsupported checkpoint format version")
	// ErrUnsupported is wrapped by the error of [Save] about a tensor it
	// cannot store: a dtype other than float32 and float64, a dimension that
	// is not positive, too many dimensions, memory Go cannot read.
	ErrUnsupported = errors.New("unsupported tensor")
	// ErrNoCheckpoint is wrapped by the error of [Manager.Latest] when the
	// directory holds no loadable checkpoint.
	ErrNoCheckpoint = errors.New("no loadable checkpoint")
)

// Meta is everything in a checkpoint that is not a tensor.
//
// [Load] returns exactly the values given to [Save], with two
// normalisations: an empty (non-nil) Vocab, RNG or Extra loads as nil.
type Meta struct {
	// Model is the model configuration as JSON, enough to rebuild the model
	// that owns the parameters. Required: it must be valid JSON.
	Model json.RawMessage
	// Vocab is the vocabulary as JSON; optional (nil when absent). When
	// present it must be valid JSON. Model, Vocab and the rest of the
	// metadata are stored in the header, which must fit in [MaxHeader].
	Vocab json.RawMessage
	// Step is the number of optimiser steps taken; Epoch the number of
	// completed epochs.
	Step, Epoch int
	// Seed is the seed the run started from.
	Seed uint64
	// RNG is the state of the random source (for example the bytes of
	// rand.PCG's MarshalBinary), stored as base64; optional.
	RNG []byte
	// Extra holds anything else: metrics, a git revision, ... Keys and values
	// must be valid UTF-8. [Manager.SaveBest] uses the key "best_score".
	Extra map[string]string
}

// Checkpoint is the state of a training run: model parameters, optimiser
// state and metadata.
type Checkpoint struct {
	// Meta is the metadata.
	Meta Meta
	// Params are the model parameters, stored in their order under their
	// own names. Required; a Params with no tensors is allowed.
	Params *graph.Params
	// State holds the optimiser's tensors by name (for example
	// "adam.m.weight_ih_l0"), each float32 or float64 independently of
	// Params' dtype; scalars (shape ()) are allowed. Optional: nil and empty
	// are the same, and Load returns nil when the file has none.
	State map[string]*tensor.Dense
}

// Save writes c to path as a safetensors file (the format is described in
// the package documentation).
//
// The checkpoint is checked in full before anything is written; then Save
// writes a temporary file in path's directory, fsyncs it, renames it over
// path and fsyncs the directory. When Save fails, any file already at path
// is left as it was and the temporary file is removed. The file is created
// with mode 0644.
//
// Save reads the tensors twice (once for the checksum, once to write them),
// so they must not change while it runs.
func Save(path string, c *Checkpoint) (err error) {
	p, err := plan(c)
	if err != nil {
		return errors.Wrapf(err, "checkpoint: save %s", path)
	}
	if err := writeAtomic(path, p); err != nil {
		return errors.Wrapf(err, "checkpoint: save %s", path)
	}
	return nil
}

// Failure injection for tests. hookWriter, when set, wraps the writer of
// the temporary file (to fail mid-write, as a full disk would).
// hookBeforeRename, when set, runs after the temporary file is written and
// synced, just before the rename; an error it returns fails Save.
var (
	hookWriter       func(io.Writer) io.Writer
	hookBeforeRename func(tmp string) error
)

func writeAtomic(path string, p *layout) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return errors.Wrap(err, "create temporary file")
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var fw io.Writer = f
	if hookWriter != nil {
		fw = hookWriter(fw)
	}
	w := bufio.NewWriterSize(fw, 1<<16)
	if err = p.write(w); err != nil {
		return errors.Wrap(err, "write")
	}
	if err = w.Flush(); err != nil {
		return errors.Wrap(err, "write")
	}
	if err = f.Chmod(0o644); err != nil {
		return errors.Wrap(err, "chmod")
	}
	if err = f.Sync(); err != nil {
		return errors.Wrap(err, "fsync")
	}
	if err = f.Close(); err != nil {
		return errors.Wrap(err, "close")
	}
	if hookBeforeRename != nil {
		if err = hookBeforeRename(tmp); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return errors.Wrap(err, "rename")
	}
	// The new file is in place; from here on nothing is removed.
	if derr := syncDir(dir); derr != nil {
		return errors.Wrap(derr, "written, but fsync of the directory failed")
	}
	return nil
}

// syncDir fsyncs a directory so that a rename in it survives a crash. File
// systems that cannot sync a directory are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	cerr := d.Close()
	if err != nil {
		if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
			return nil
		}
		return err
	}
	return cerr
}

// Load reads and verifies the checkpoint at path.
//
// Before it allocates anything for the file, Load checks the header length
// against [MaxHeader] and the file size; every tensor's offsets, dtype and
// shape are checked against each other and the file size before its data is
// read, so Load never allocates more for tensor data than the file holds.
// It refuses a file that is shorter or longer than its header says, offsets
// that overlap, leave gaps, run backwards or past the end, dtypes other than
// F32 and F64, shapes whose size does not match the offsets, unknown or
// malformed metadata, a missing or wrong checksum (wrapping [ErrCorrupt]) and
// a format version other than [FormatVersion] (wrapping [ErrVersion]).
func Load(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "checkpoint: load")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Wrap(err, "checkpoint: load")
	}
	if !st.Mode().IsRegular() {
		return nil, errors.Errorf("checkpoint: load %s: not a regular file", path)
	}
	c, err := decode(bufio.NewReaderSize(f, 1<<16), st.Size())
	if err != nil {
		return nil, errors.Wrapf(err, "checkpoint: load %s", path)
	}
	return c, nil
}

// readFull is io.ReadFull with a truncation reported as ErrCorrupt.
func readFull(r io.Reader, b []byte, what string) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.Wrapf(ErrCorrupt, "file ends inside the %s", what)
		}
		return errors.Wrapf(err, "read %s", what)
	}
	return nil
}
