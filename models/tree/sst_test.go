package tree

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sstSplits are small stand-ins for the release's files, in the forms real
// files take: CRLF line ends, a byte-order mark, blank lines at the end.
var sstSplits = map[string]string{
	"trees/train.txt": "(3 (2 It) (4 (4 works) (2 .)))\n(1 (1 bad) (2 film))\n",
	"trees/dev.txt":   "\ufeff(2 (2 a) (3 b))\r\n(0 (0 awful) (2 .))\r\n\r\n",
	"trees/test.txt":  "(4 great)\n\n\n",
}

// sstZip builds a zip of files (name → content) the way the release is
// packed (a trees/ folder, deflated).
func sstZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, name := range []string{"trees/", "trees/train.txt", "trees/dev.txt", "trees/test.txt"} {
		content, ok := files[name]
		if !ok && name != "trees/" {
			continue
		}
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// serve serves body at /sst.zip (the whole of it, or the first cut bytes
// after announcing all of them).
func serve(t *testing.T, body []byte, cut int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sst.zip" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:cut])
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/sst.zip"
}

// dirFiles lists dir's entries (hidden temporary files included).
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// The release downloads from a local server, is checked against its sum and
// lands as train.txt, dev.txt and test.txt, byte for byte the zip's
// members, each read as trees.
func TestDownloadSST(t *testing.T) {
	z := sstZip(t, sstSplits)
	dir := filepath.Join(t.TempDir(), "sst")
	files, err := DownloadSST(context.Background(), nil, serve(t, z, len(z)), hexSum(z), dir)
	if err != nil {
		t.Fatal(err)
	}
	wantTrees := map[string]int{"train.txt": 2, "dev.txt": 2, "test.txt": 1}
	if len(files) != 3 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f.Path)
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != sstSplits["trees/"+name] || f.SHA256 != hexSum(b) || f.Trees != wantTrees[name] {
			t.Errorf("%s: %q, %d trees, sum %s", name, b, f.Trees, f.SHA256)
		}
		if ts, err := ReadFile(f.Path, SSTClasses); err != nil || len(ts) != wantTrees[name] {
			t.Errorf("%s reads back as %d trees, %v", name, len(ts), err)
		}
	}
	if got := strings.Join(dirFiles(t, dir), " "); got != "dev.txt test.txt train.txt" {
		t.Errorf("the directory holds %s", got)
	}
}

// A download that fails any check writes nothing, and files already in the
// directory stay as they were.
func TestDownloadSSTBad(t *testing.T) {
	z := sstZip(t, sstSplits)
	corrupt := append([]byte(nil), z...)
	i := bytes.Index(corrupt, []byte("trees/dev.txt")) + len("trees/dev.txt") + 4 // inside dev.txt's deflated data
	for j := i; j < i+8; j++ {
		corrupt[j] ^= 0xff
	}
	badTree := map[string]string{}
	noTest := map[string]string{}
	for k, v := range sstSplits {
		badTree[k], noTest[k] = v, v
	}
	badTree["trees/dev.txt"] = "(2 (2 a) (3 b))\n(2 (9 x) (2 y))\n"
	delete(noTest, "trees/test.txt")
	bt, nt := sstZip(t, badTree), sstZip(t, noTest)
	ctx := context.Background()
	for _, c := range []struct {
		name, url, sum string
		is             error
		want           string
	}{
		{"checksum", serve(t, z, len(z)), SSTSHA256, ErrChecksum, "want " + SSTSHA256},
		{"truncated download", serve(t, z, len(z)/2), "", nil, "unexpected EOF"},
		{"truncated zip", serve(t, z[:len(z)-30], len(z)-30), "", ErrArchive, "truncated or corrupt"},
		{"corrupt zip", serve(t, corrupt, len(corrupt)), "", ErrArchive, "trees/dev.txt"},
		{"not a zip", serve(t, []byte("<html>moved</html>"), 18), "", ErrArchive, "not a valid zip"},
		{"malformed tree", serve(t, bt, len(bt)), hexSum(bt), ErrLabel, "zip:trees/dev.txt: line 2, column 5: label 9 outside 0..4"},
		{"split missing", serve(t, nt, len(nt)), "", ErrArchive, "no trees/test.txt"},
		{"bad sum", serve(t, z, len(z)), "abc", nil, "not 64 hex digits"},
		{"not found", strings.TrimSuffix(serve(t, z, len(z)), "sst.zip") + "other.zip", "", nil, "404"},
	} {
		dir := t.TempDir()
		old := filepath.Join(dir, "train.txt")
		if err := os.WriteFile(old, []byte("(2 old)\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := DownloadSST(ctx, nil, c.url, c.sum, dir)
		if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
			t.Errorf("%s: %v, want an error with %q (%v)", c.name, err, c.want, c.is)
		}
		if got := strings.Join(dirFiles(t, dir), " "); got != "train.txt" {
			t.Errorf("%s: the directory holds %s", c.name, got)
		}
		if b, _ := os.ReadFile(old); string(b) != "(2 old)\n" {
			t.Errorf("%s: train.txt became %q", c.name, b)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := DownloadSST(cancelled, nil, serve(t, z, len(z)), "", t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled download: %v", err)
	}
}

// ExtractSST never panics, and writes the three files only when it
// succeeds.
func FuzzExtractSST(f *testing.F) {
	z := sstZip(f, sstSplits)
	f.Add(z)
	f.Add(z[:len(z)/2])
	f.Add([]byte{})
	f.Add([]byte("PK\x03\x04"))
	f.Add(sstZip(f, map[string]string{"trees/train.txt": "(2 a)", "trees/dev.txt": "((", "trees/test.txt": "(2 a)"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		files, err := ExtractSST(data, "", dir)
		n := len(dirFiles(t, dir))
		if err != nil && n != 0 || err == nil && (n != 3 || len(files) != 3) {
			t.Fatalf("error %v with %d files written", err, n)
		}
	})
}
