package checkpoint

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// fuzzSeeds returns the seed corpus of FuzzLoad by name: a valid small
// checkpoint and damaged ones.
func fuzzSeeds(t testing.TB) map[string][]byte {
	valid := encode(t, smallCheckpoint(t))
	flip := func(i int) []byte {
		b := bytes.Clone(valid)
		b[i] ^= 0x10
		return b
	}
	return map[string][]byte{
		"valid":          valid,
		"truncated":      valid[:len(valid)/2],
		"data-bit-flip":  flip(len(valid) - 3),
		"header-flip":    flip(40),
		"length-flip":    flip(1),
		"trailing-byte":  append(bytes.Clone(valid), 0),
		"overlap":        rawFile(`{"__metadata__":{"format_version":"1","checksum":"00"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
		"version-2":      rawFile(`{"__metadata__":{"format_version":"2","checksum":"00"}}`, nil),
		"empty":          {},
		"huge-length":    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{'},
		"scalar-state":   encode(t, &Checkpoint{Meta: Meta{Model: []byte(`{}`)}, Params: smallCheckpoint(t).Params, State: sampleCheckpoint(t, tensor.Float32).State}),
		"unknown-dtype":  rawFile(`{"__metadata__":{"format_version":"1","checksum":"00"},"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)),
		"not-a-checksum": bytes.Replace(valid, []byte(`"checksum":"`), []byte(`"checksum":"x`), 1),
	}
}

// The files under testdata/fuzz/FuzzLoad are fuzzSeeds; run with
// CHECKPOINT_UPDATE_CORPUS=1 to rewrite them after a format change.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzLoad")
	update := os.Getenv("CHECKPOINT_UPDATE_CORPUS") == "1"
	for name, b := range fuzzSeeds(t) {
		path := filepath.Join(dir, name)
		want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
		if update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale (%v): rerun with CHECKPOINT_UPDATE_CORPUS=1", path, err)
		}
	}
	if _, err := decodeBytes(fuzzSeeds(t)["valid"]); err != nil {
		t.Errorf("the valid seed does not load: %v", err)
	}
}

// FuzzLoad checks that no input makes decoding panic, that every refusal
// wraps ErrCorrupt or ErrVersion, and that whatever loads saves and loads
// again to the same checkpoint.
func FuzzLoad(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeBytes(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error wraps neither ErrCorrupt nor ErrVersion: %v", err)
			}
			return
		}
		l, err := plan(c)
		if err != nil {
			t.Fatalf("a loaded checkpoint does not save: %v", err)
		}
		var buf bytes.Buffer
		if err := l.write(&buf); err != nil {
			t.Fatal(err)
		}
		c2, err := decodeBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("a re-saved checkpoint does not load: %v", err)
		}
		sameCheckpoint(t, c, c2)
	})
}
