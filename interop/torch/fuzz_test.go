package torch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/errors"
)

// FuzzRead feeds Read arbitrary bytes. Read must return, never panic; an
// error must wrap ErrFormat or ErrGlobal; a state_dict must be consistent
// and hold no more values than the limits allow. The seeds are the
// committed .pt files, the hand-built good and hostile files of the
// bad-input tests and the corpus in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.pt"))
	if len(files) == 0 {
		f.Fatal("no .pt seeds")
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(goodZip(f))
	f.Add(goodLegacy())
	hostile := newPickle(2).global("os", "system").str("echo pwned").op(opTuple1, opReduce).stop()
	f.Add(zipFile(f, hostile))
	f.Add(append(append(append(append([]byte(nil), legacyMagicPickle...), legacyProtoPickle...), sysInfo(true)...), hostile...))
	f.Add(zipFile(f, stateDict(false, fake{name: "x", storage: "HalfStorage", key: "0", numel: 2, shape: []int64{2, 3}, stride: []int64{0, 0}}), record{"0", []byte{0, 0x3c, 0, 0xc0}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := readBytes(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrGlobal) {
				t.Fatalf("error wraps neither ErrFormat nor ErrGlobal: %v", err)
			}
			return
		}
		checkConsistent(t, sd)
		// Storages hold at most deflateRatio bytes per byte of the file,
		// and the tensors at most aliasFactor values per storage element
		// (plus aliasSlack).
		var values int64
		for _, tn := range sd.Tensors {
			values += int64(len(tn.Data))
		}
		if limit := aliasFactor*deflateRatio*int64(len(b)) + aliasSlack; values > limit {
			t.Fatalf("%d values from %d bytes", values, len(b))
		}
	})
}
