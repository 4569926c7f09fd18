package torch

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

// expected is testdata/expected.json, written by testdata/make.py.
type expected struct {
	Torch string                  `json:"torch"`
	Cases map[string]expectedCase `json:"cases"`
}

type expectedCase struct {
	Files   []string                  `json:"files"`
	Keys    []string                  `json:"keys"`
	Tensors map[string]expectedTensor `json:"tensors"`
	Skipped []Skipped                 `json:"skipped"`
}

type expectedTensor struct {
	DType string   `json:"dtype"`
	Shape []int    `json:"shape"`
	F64   []string `json:"f64"` // hex of the float64 bits (tensor.double())
	F32   []string `json:"f32"` // hex of the float32 bits (tensor.float()), not for float64
}

func readExpected(t *testing.T, dir string) expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Cases) == 0 {
		t.Fatal("expected.json holds no cases")
	}
	return e
}

// checkCases reads every file of every case in dir and compares every
// value bit for bit.
func checkCases(t *testing.T, dir string, e expected) (files, values int) {
	t.Helper()
	for name, c := range e.Cases {
		if len(c.Files) == 0 {
			t.Errorf("case %s: no files", name)
		}
		for _, file := range c.Files {
			sd, err := Load(filepath.Join(dir, file))
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			files++
			values += compare(t, file, sd, c)
		}
	}
	return files, values
}

func compare(t *testing.T, file string, sd *StateDict, c expectedCase) (values int) {
	t.Helper()
	wantFormat := "zip"
	if strings.Contains(file, "legacy") {
		wantFormat = "legacy"
	}
	if sd.Format != wantFormat {
		t.Errorf("%s: format %q, want %q", file, sd.Format, wantFormat)
	}
	if got := sd.Keys(); !reflect.DeepEqual(got, c.Keys) {
		t.Errorf("%s: keys\n got %q\nwant %q", file, got, c.Keys)
	}
	wantSkipped := c.Skipped
	if wantSkipped == nil {
		wantSkipped = []Skipped{}
	}
	if !reflect.DeepEqual(sd.Skipped, wantSkipped) {
		t.Errorf("%s: skipped\n got %+v\nwant %+v", file, sd.Skipped, wantSkipped)
	}
	for _, tn := range sd.Tensors {
		w, ok := c.Tensors[tn.Name]
		if !ok {
			t.Errorf("%s: unexpected tensor %q", file, tn.Name)
			continue
		}
		if tn.DType != w.DType || !reflect.DeepEqual(tn.Shape, w.Shape) {
			t.Errorf("%s: %s is %s %v, want %s %v", file, tn.Name, tn.DType, tn.Shape, w.DType, w.Shape)
			continue
		}
		if len(tn.Data) != len(w.F64) {
			t.Errorf("%s: %s has %d values, want %d", file, tn.Name, len(tn.Data), len(w.F64))
			continue
		}
		if tn.DType != "float64" && len(w.F32) != len(w.F64) {
			t.Fatalf("expected.json: %s: %d f32 values for %d f64", tn.Name, len(w.F32), len(w.F64))
		}
		for i, v := range tn.Data {
			want := parseBits(t, w.F64[i], 64)
			if got := math.Float64bits(v); got != want {
				t.Errorf("%s: %s[%d] = %016x (%v), want %016x (%v)", file, tn.Name, i, got, v, want, math.Float64frombits(want))
			}
			values++
			if tn.DType == "float64" {
				continue
			}
			// The value as float32, bit for bit as PyTorch's .float(),
			// except that a signaling NaN (bfloat16, float32) is quiet
			// here: Data went through float64.
			want32 := uint32(parseBits(t, w.F32[i], 32))
			got32 := math.Float32bits(float32(v))
			if isSignalingNaN32(want32) {
				want32 |= 0x00400000
			}
			if got32 != want32 {
				t.Errorf("%s: %s[%d] as float32 = %08x, want %08x", file, tn.Name, i, got32, want32)
			}
		}
	}
	return values
}

func isSignalingNaN32(b uint32) bool {
	return b&0x7f800000 == 0x7f800000 && b&0x007fffff != 0 && b&0x00400000 == 0
}

func parseBits(t *testing.T, s string, bits int) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, bits)
	if err != nil {
		t.Fatalf("expected.json: %q: %v", s, err)
	}
	return v
}

// TestCommittedFiles reads every committed .pt file and compares every
// key, dtype, shape and value with what PyTorch wrote into expected.json.
func TestCommittedFiles(t *testing.T) {
	e := readExpected(t, "testdata")
	files, values := checkCases(t, "testdata", e)
	all, _ := filepath.Glob(filepath.Join("testdata", "*.pt"))
	if files != len(all) {
		t.Errorf("read %d files, testdata has %d .pt files", files, len(all))
	}
	if values < 1000 {
		t.Errorf("only %d values compared", values)
	}
	t.Logf("%d files, %d values, written by torch %s", files, values, e.Torch)
}

func load(t *testing.T, name string) *StateDict {
	t.Helper()
	sd, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

func get(t *testing.T, sd *StateDict, name string) Tensor {
	t.Helper()
	tn, err := sd.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// TestViews checks the views against their base tensors in Go too: a
// transposed tensor saved as-is is the transpose, slices and tensors
// sharing a storage see the right elements.
func TestViews(t *testing.T) {
	for _, file := range []string{"views.pt", "views_legacy.pt"} {
		sd := load(t, file)
		w := get(t, sd, "w") // 3×5
		wt := get(t, sd, "w_t")
		if !reflect.DeepEqual(wt.Shape, []int{5, 3}) {
			t.Fatalf("%s: w_t shape %v", file, wt.Shape)
		}
		for i := 0; i < 3; i++ {
			for j := 0; j < 5; j++ {
				if wt.Data[j*3+i] != w.Data[i*5+j] {
					t.Errorf("%s: w_t[%d,%d] = %v, w[%d,%d] = %v", file, j, i, wt.Data[j*3+i], i, j, w.Data[i*5+j])
				}
			}
		}
		col := get(t, sd, "w_col")
		block := get(t, sd, "w_block") // w[1:, 2:4]
		for i := 0; i < 3; i++ {
			if col.Data[i] != w.Data[i*5+1] {
				t.Errorf("%s: w_col[%d] = %v, want %v", file, i, col.Data[i], w.Data[i*5+1])
			}
		}
		for i := 0; i < 2; i++ {
			for j := 0; j < 2; j++ {
				if block.Data[i*2+j] != w.Data[(i+1)*5+j+2] {
					t.Errorf("%s: w_block[%d,%d] = %v", file, i, j, block.Data[i*2+j])
				}
			}
		}
		// base = arange(24)*0.25 - 1: a = base[2:8], b = base[10:14],
		// every_third = base[1::3].
		base := func(i int) float64 { return float64(i)*0.25 - 1 }
		for i, v := range get(t, sd, "a").Data {
			if v != base(2+i) {
				t.Errorf("%s: a[%d] = %v, want %v", file, i, v, base(2+i))
			}
		}
		for i, v := range get(t, sd, "b").Data {
			if v != base(10+i) {
				t.Errorf("%s: b[%d] = %v, want %v", file, i, v, base(10+i))
			}
		}
		third := get(t, sd, "every_third")
		if len(third.Data) != 8 {
			t.Fatalf("%s: every_third has %d values", file, len(third.Data))
		}
		for i, v := range third.Data {
			if v != base(1+3*i) {
				t.Errorf("%s: every_third[%d] = %v, want %v", file, i, v, base(1+3*i))
			}
		}
		if ex := get(t, sd, "expanded"); !reflect.DeepEqual(ex.Data, []float64{1.5, -2, 1.5, -2, 1.5, -2}) {
			t.Errorf("%s: expanded = %v", file, ex.Data)
		}
		if s := get(t, sd, "scalar"); len(s.Shape) != 0 || !reflect.DeepEqual(s.Data, []float64{3.25}) {
			t.Errorf("%s: scalar %v %v", file, s.Shape, s.Data)
		}
		if e := get(t, sd, "empty"); !reflect.DeepEqual(e.Shape, []int{0, 4}) || len(e.Data) != 0 || e.Size() != 0 {
			t.Errorf("%s: empty %v %v", file, e.Shape, e.Data)
		}
	}
}

// TestSkipped: integer and boolean buffers are listed, not read, and Get
// and CheckFloat name the key and dtype.
func TestSkipped(t *testing.T) {
	for _, file := range []string{"buffers.pt", "buffers_legacy.pt"} {
		sd := load(t, file)
		// A module's own buffers come before its children's.
		want := []Skipped{
			{Name: "mask", Shape: []int{3}, DType: "bool"},
			{Name: "ids", Shape: []int{2, 2}, DType: "int32"},
			{Name: "bn.num_batches_tracked", Shape: []int{}, DType: "int64"},
		}
		if !reflect.DeepEqual(sd.Skipped, want) {
			t.Errorf("%s: skipped %+v", file, sd.Skipped)
		}
		_, err := sd.Get("bn.num_batches_tracked")
		if !errors.Is(err, ErrNotFloat) || !strings.Contains(err.Error(), `"bn.num_batches_tracked" is int64`) {
			t.Errorf("%s: Get of an int64 buffer: %v", file, err)
		}
		if err := sd.CheckFloat(); !errors.Is(err, ErrNotFloat) || !strings.Contains(err.Error(), `"mask" is bool`) || !strings.Contains(err.Error(), "3 non-float") {
			t.Errorf("%s: CheckFloat: %v", file, err)
		}
		if _, err := sd.Get("nope"); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("%s: Get of a missing key: %v", file, err)
		}
		if s := get(t, sd, "scale"); s.DType != "float64" || s.Data[0] != 0.5 {
			t.Errorf("%s: scale %+v", file, s)
		}
	}
	if err := load(t, "lstm.pt").CheckFloat(); err != nil {
		t.Errorf("CheckFloat of an all-float state_dict: %v", err)
	}
}

// TestStripAndRename: DataParallel's "module." prefix, nested prefixes,
// dropping keys and collisions.
func TestStripAndRename(t *testing.T) {
	for _, file := range []string{"nested.pt", "nested_p4.pt", "nested_p4_legacy.pt"} {
		sd := load(t, file)
		s, err := sd.Strip("module.")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"encoder.0.weight", "encoder.1.weight_ih_l0", "encoder.1.weight_hh_l0",
			"encoder.1.bias_ih_l0", "encoder.1.bias_hh_l0", "decoder.proj.weight", "decoder.proj.bias"}
		if !reflect.DeepEqual(s.Keys(), want) {
			t.Errorf("%s: stripped keys %q", file, s.Keys())
		}
		if sd.Tensors[0].Name != "module.encoder.0.weight" {
			t.Errorf("%s: Strip changed the original: %q", file, sd.Tensors[0].Name)
		}
		a, b := get(t, sd, "module.decoder.proj.weight"), get(t, s, "decoder.proj.weight")
		if !reflect.DeepEqual(a.Data, b.Data) || !reflect.DeepEqual(a.Shape, b.Shape) {
			t.Errorf("%s: values changed by Strip", file)
		}
		// Keep only the decoder, renamed.
		dec, err := s.Rename(func(n string) string {
			if rest, ok := strings.CutPrefix(n, "decoder.proj."); ok {
				return "out." + rest
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(dec.Keys(), []string{"out.weight", "out.bias"}) {
			t.Errorf("%s: renamed keys %q", file, dec.Keys())
		}
		_, err = sd.Rename(func(n string) string { return "same" })
		if err == nil || !strings.Contains(err.Error(), `"module.encoder.0.weight" and "module.encoder.1.weight_ih_l0" both give "same"`) {
			t.Errorf("%s: colliding rename: %v", file, err)
		}
		if _, err := s.Strip("decoder.proj.weight"); err == nil {
			t.Errorf("%s: stripping a whole key: no error", file)
		}
		none, err := sd.Strip("nothing.")
		if err != nil || !reflect.DeepEqual(none.Keys(), sd.Keys()) {
			t.Errorf("%s: Strip of an absent prefix: %v %q", file, err, none.Keys())
		}
	}
	// Skipped keys are renamed as well.
	sd, err := load(t, "buffers.pt").Strip("bn.")
	if err != nil {
		t.Fatal(err)
	}
	if sd.Skipped[2].Name != "num_batches_tracked" {
		t.Errorf("skipped key not renamed: %q", sd.Skipped[2].Name)
	}
}

// TestFloat32s: float32 copies are exact for the 32- and 16-bit dtypes.
func TestFloat32s(t *testing.T) {
	sd := load(t, "dtypes.pt")
	for _, name := range []string{"f32", "f16", "bf16"} {
		tn := get(t, sd, name)
		for i, v := range tn.Float32s() {
			if float64(v) != tn.Data[i] {
				t.Errorf("%s[%d]: float32 %v, float64 %v", name, i, v, tn.Data[i])
			}
		}
	}
}

// TestHalfConversion checks every one of the 65,536 float16 and bfloat16
// bit patterns against a reference conversion by arithmetic.
func TestHalfConversion(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got := halfToFloat32(uint16(h))
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp, mant := (h>>10)&0x1f, h&0x3ff
		var want float64
		switch {
		case exp == 0x1f && mant == 0:
			want = math.Inf(int(sign))
		case exp == 0x1f:
			if !math.IsNaN(float64(got)) || math.Float32bits(got)>>31 != uint32(h>>15) ||
				math.Float32bits(got)&0x3fffff != uint32(mant&0x1ff)<<13 || math.Float32bits(got)&0x400000 == 0 {
				t.Fatalf("half %04x: %08x, want a quiet NaN of the same sign and payload", h, math.Float32bits(got))
			}
			continue
		case exp == 0:
			want = sign * math.Ldexp(float64(mant), -24)
		default:
			want = sign * math.Ldexp(float64(1024+mant), exp-25)
		}
		if float64(got) != want || math.Signbit(float64(got)) != (sign < 0) {
			t.Fatalf("half %04x: %v, want %v", h, got, want)
		}
		b := bfloat16ToFloat32(uint16(h))
		if math.Float32bits(b) != uint32(h)<<16 {
			t.Fatalf("bfloat16 %04x: %08x", h, math.Float32bits(b))
		}
	}
}
