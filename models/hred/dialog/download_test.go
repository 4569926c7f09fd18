package dialog

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// zipOf returns a zip of the files name → contents.
func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, b := range files {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A release laid out as the official zip downloads from a local server,
// its checksum checked, and its validation split reads back.
func TestDownloadRelease(t *testing.T) {
	text := "Hi . __eou__ Hello . __eou__\nA . __eou__ B . __eou__ C . __eou__\n"
	inner := zipOf(t, map[string][]byte{"validation/dialogues_validation.txt": []byte(text), "validation/dialogues_act_validation.txt": []byte("1 2\n")})
	release := zipOf(t, map[string][]byte{"ijcnlp_dailydialog/validation.zip": inner, "ijcnlp_dailydialog/readme.txt": []byte("x")})
	sum := sha256.Sum256(release)
	want := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/files/ijcnlp_dailydialog.zip" {
			http.NotFound(w, r)
			return
		}
		w.Write(release)
	}))
	defer srv.Close()
	dir := t.TempDir()
	dst := filepath.Join(dir, "dd.zip")
	ctx := context.Background()
	got, err := Download(ctx, srv.Client(), srv.URL+"/files/ijcnlp_dailydialog.zip", dst, want)
	if err != nil || got != want {
		t.Fatalf("Download: %s, %v", got, err)
	}
	ds, err := ReadRelease(dst, "validation", Options{})
	if err != nil || len(ds) != 2 || len(ds[1]) != 3 {
		t.Fatalf("ReadRelease: %q, %v", ds, err)
	}
	if _, err := ReadRelease(dst, "test", Options{}); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "test.zip") {
		t.Errorf("a missing split: %v", err)
	}
	if _, err := ReadRelease(dst, "dev", Options{}); err == nil {
		t.Error("split dev accepted")
	}
	// A wrong checksum leaves no file; a 404 is an error.
	bad := filepath.Join(dir, "bad.zip")
	if _, err := Download(ctx, srv.Client(), srv.URL+"/files/ijcnlp_dailydialog.zip", bad, strings.Repeat("0", 64)); !errors.Is(err, ErrChecksum) {
		t.Errorf("wrong checksum: %v", err)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a download with a wrong checksum was written: %v", err)
	}
	if _, err := Download(ctx, srv.Client(), srv.URL+"/nothing", bad, ""); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// The recorded checksum is that of the shared copy of the validation split.
func TestKnownChecksum(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "dailydialog", "validation.txt")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("DailyDialog is not here (%v): skipping", err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != KnownSHA256["validation/dialogues_validation.txt"] {
		t.Fatalf("sha256 %s, recorded %s", got, KnownSHA256["validation/dialogues_validation.txt"])
	}
}
