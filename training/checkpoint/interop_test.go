package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// independentTensor is one tensor as the independent reader sees it.
type independentTensor struct {
	Dtype   string    `json:"dtype"`
	Shape   []int     `json:"shape"`
	Offsets [2]uint64 `json:"data_offsets"`
	name    string
}

// readIndependently parses a file with encoding/json and nothing of this
// package: the safetensors layout, the tensor order by offset, the values
// and the checksum as doc.go defines it.
func readIndependently(t *testing.T, file []byte) ([]independentTensor, map[string]string, map[string][]uint64) {
	t.Helper()
	n := binary.LittleEndian.Uint64(file[:8])
	if (8+n)%8 != 0 {
		t.Errorf("header of %d bytes is not padded to 8", n)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(file[8:8+n], &raw); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if err := json.Unmarshal(raw["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	delete(raw, "__metadata__")
	var ts []independentTensor
	for name, r := range raw {
		var x independentTensor
		if err := json.Unmarshal(r, &x); err != nil {
			t.Fatal(err)
		}
		x.name = name
		ts = append(ts, x)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Offsets[0] < ts[j].Offsets[0] })
	data := file[8+n:]
	values := map[string][]uint64{}
	var end uint64
	for _, x := range ts {
		if x.Offsets[0] != end {
			t.Errorf("%s starts at %d, the previous ends at %d", x.name, x.Offsets[0], end)
		}
		end = x.Offsets[1]
		b := data[x.Offsets[0]:x.Offsets[1]]
		size := map[string]int{"F32": 4, "F64": 8}[x.Dtype]
		count := 1
		for _, d := range x.Shape {
			count *= d
		}
		if size == 0 || len(b) != count*size {
			t.Fatalf("%s: %s %v in %d bytes", x.name, x.Dtype, x.Shape, len(b))
		}
		for i := 0; i < len(b); i += size {
			if size == 4 {
				values[x.name] = append(values[x.name], uint64(binary.LittleEndian.Uint32(b[i:])))
			} else {
				values[x.name] = append(values[x.name], binary.LittleEndian.Uint64(b[i:]))
			}
		}
	}
	if end != uint64(len(data)) {
		t.Errorf("tensors end at %d, data is %d bytes", end, len(data))
	}

	// The checksum, written out again from the spec in doc.go.
	var c []byte
	u := func(x uint64) { c = binary.LittleEndian.AppendUint64(c, x) }
	s := func(x string) { u(uint64(len(x))); c = append(c, x...) }
	// The spec hashes in header order, which for files written by Save is
	// data order.
	u(uint64(len(ts)))
	for _, x := range ts {
		s(x.name)
		s(x.Dtype)
		u(uint64(len(x.Shape)))
		for _, d := range x.Shape {
			u(uint64(d))
		}
		u(x.Offsets[0])
		u(x.Offsets[1])
	}
	var keys []string
	for k := range meta {
		if k != "checksum" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	u(uint64(len(keys)))
	for _, k := range keys {
		s(k)
		s(meta[k])
	}
	sum := sha256.Sum256(append(c, data...))
	if got := hex.EncodeToString(sum[:]); got != meta["checksum"] {
		t.Errorf("checksum %s, recomputed %s", meta["checksum"], got)
	}
	return ts, meta, values
}

// A file written by Save, read by a reader that shares no code with Load.
func TestIndependentReader(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		c := sampleCheckpoint(t, dt)
		path := filepath.Join(t.TempDir(), "c.safetensors")
		if err := Save(path, c); err != nil {
			t.Fatal(err)
		}
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ts, meta, values := readIndependently(t, file)

		var names []string
		for _, x := range ts {
			names = append(names, x.name)
		}
		want := c.Params.Names()
		for _, k := range sortedKeys(c.State) {
			want = append(want, "state/"+k)
		}
		if strings.Join(names, "|") != strings.Join(want, "|") {
			t.Errorf("tensors in data order %q, want %q", names, want)
		}
		for _, x := range ts {
			var d *tensor.Dense
			if k, ok := strings.CutPrefix(x.name, "state/"); ok {
				d = c.State[k]
			} else {
				d, _ = c.Params.Get(x.name)
			}
			shape, bits, is32 := bitsOf(t, d)
			if (x.Dtype == "F32") != is32 || !equalInts(shape, x.Shape) || !equalUints(bits, values[x.name]) {
				t.Errorf("%s: %s %v %x, want %v %v %x", x.name, x.Dtype, x.Shape, values[x.name], is32, shape, bits)
			}
		}
		m := c.Meta
		rng, _ := base64.StdEncoding.DecodeString(meta["rng"])
		wantDtype := map[tensor.Dtype]string{tensor.Float32: "F32", tensor.Float64: "F64"}[dt]
		if meta["format_version"] != "1" || meta["params_dtype"] != wantDtype || meta["model"] != string(m.Model) ||
			meta["vocab"] != string(m.Vocab) || meta["step"] != strconv.Itoa(m.Step) || meta["epoch"] != strconv.Itoa(m.Epoch) ||
			meta["seed"] != strconv.FormatUint(m.Seed, 10) || !bytes.Equal(rng, m.RNG) {
			t.Errorf("metadata %q", meta)
		}
		for k, v := range m.Extra {
			if meta["x."+k] != v {
				t.Errorf("x.%s = %q, want %q", k, meta["x."+k], v)
			}
		}
		if len(meta) != 9+len(m.Extra) {
			t.Errorf("%d metadata keys: %q", len(meta), meta)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func equalInts(a, b []int) bool { return len(a) == len(b) && string(jsonOf(a)) == string(jsonOf(b)) }

func equalUints(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func jsonOf(v any) []byte { b, _ := json.Marshal(v); return b }

// python returns an interpreter that has numpy, or skips the test.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	t.Skip("no python3 with numpy")
	return ""
}

// docPython returns the Python code blocks of doc.go that start with the
// given line.
func docPython(t *testing.T, first string) string {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		code, ok := strings.CutPrefix(line, "//\t")
		switch {
		case ok && code == first:
			in = true
		case !ok:
			in = false
		}
		if in {
			out = append(out, code)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no Python block starting %q in doc.go", first)
	}
	return strings.Join(out, "\n") + "\n"
}

// pyDriver prints what the doc.go readers see, one JSON object a line.
const pyDriver = `
import sys
tensors, meta = load(sys.argv[1])
print(json.dumps({"verify": verify(sys.argv[1]), "meta": meta}))
for name, a in tensors.items():
    print(json.dumps({"name": name, "dtype": a.dtype.str, "shape": list(a.shape),
                      "hex": a.tobytes().hex(), "first": repr(float(a.flat[0]))}))
try:
    from safetensors.torch import load_file
    t = load_file(sys.argv[1])
    print(json.dumps({"torch": sorted(t)}))
except ImportError:
    pass
`

// The numpy reader and the checksum check of doc.go, run on a file written
// by Save.
func TestPythonNumpyReader(t *testing.T) {
	py := python(t)
	script := docPython(t, "import json, struct") + docPython(t, "import hashlib, json, struct") + pyDriver
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "read.py"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		c := sampleCheckpoint(t, dt)
		path := filepath.Join(dir, "c.safetensors")
		if err := Save(path, c); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, filepath.Join(dir, "read.py"), path).CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var head struct {
			Verify bool
			Meta   map[string]string
		}
		if err := json.Unmarshal([]byte(lines[0]), &head); err != nil {
			t.Fatal(err)
		}
		if !head.Verify {
			t.Error("verify() in doc.go rejects the checksum")
		}
		if head.Meta["model"] != string(c.Meta.Model) || head.Meta["x.unicode ключ"] != c.Meta.Extra["unicode ключ"] || head.Meta["x.sep"] != c.Meta.Extra["sep"] {
			t.Errorf("metadata %q", head.Meta)
		}
		var names []string
		for _, line := range lines[1:] {
			var x struct {
				Name, Dtype, Hex, First string
				Shape                   []int
				Torch                   []string
			}
			if err := json.Unmarshal([]byte(line), &x); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if x.Torch != nil {
				t.Logf("safetensors.torch.load_file read %d tensors", len(x.Torch))
				continue
			}
			names = append(names, x.Name)
			var d *tensor.Dense
			if k, ok := strings.CutPrefix(x.Name, "state/"); ok {
				d = c.State[k]
			} else {
				d, _ = c.Params.Get(x.Name)
			}
			shape, bits, is32 := bitsOf(t, d)
			var want []byte
			for _, b := range bits {
				if is32 {
					want = binary.LittleEndian.AppendUint32(want, uint32(b))
				} else {
					want = binary.LittleEndian.AppendUint64(want, b)
				}
			}
			wantDtype := map[bool]string{true: "<f4", false: "<f8"}[is32]
			if x.Dtype != wantDtype || !equalInts(shape, x.Shape) || x.Hex != hex.EncodeToString(want) {
				t.Errorf("%s: numpy sees %s %v %s, want %s %v %x", x.Name, x.Dtype, x.Shape, x.Hex, wantDtype, shape, want)
			}
			// The printed value, parsed back, is the stored one (or both are NaN).
			f, err := strconv.ParseFloat(x.First, 64)
			w := math.Float64frombits(bits[0])
			if is32 {
				w = float64(math.Float32frombits(uint32(bits[0])))
			}
			if err != nil || f != w && !(math.IsNaN(f) && math.IsNaN(w)) {
				t.Errorf("%s: numpy prints %s first, want %v", x.Name, x.First, w)
			}
		}
		want := c.Params.Names()
		for _, k := range sortedKeys(c.State) {
			want = append(want, "state/"+k)
		}
		if strings.Join(names, "|") != strings.Join(want, "|") {
			t.Errorf("numpy order %q, want %q", names, want)
		}
	}
}
