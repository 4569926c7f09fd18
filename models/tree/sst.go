package tree

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// The Stanford Sentiment Treebank's official release in PTB bracket format
// (Socher et al. 2013): one zip holding trees/train.txt (8,544 trees),
// trees/dev.txt (1,101) and trees/test.txt (2,210), a label 0–4 on every
// node.
const (
	// SSTURL is where Stanford publishes the release.
	SSTURL = "https://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip"
	// SSTSHA256 is the SHA-256 of the zip at SSTURL, 789,539 bytes
	// (SSTSize), as two independent public loaders of it pin the file (a
	// Julia dataset package and a Python benchmark suite). It was not
	// computed here: these machines have no internet. DownloadSST refuses
	// another sum unless given the sum to expect; if Stanford ever changes
	// the file, check the new one and pass its sum (rnnkit sst-data
	// -sha256).
	SSTSHA256 = "5c613a4f673fc74097d523a2c83f38e0cc462984d847b82c7aaf36b01cbbbfcc"
	// SSTSize is the size in bytes of the zip SSTSHA256 is the sum of.
	SSTSize = 789539
	// SSTClasses is the number of the release's labels (0 very negative …
	// 4 very positive).
	SSTClasses = 5
	// MaxArchiveBytes bounds a download and each file taken out of it (a
	// wrong URL or a zip bomb fails instead of filling the disk).
	MaxArchiveBytes = 64 << 20
)

// SSTSplits are the release's files: trees/<name> in the zip, <name> in
// the directory DownloadSST and ExtractSST write.
var SSTSplits = []string{"train.txt", "dev.txt", "test.txt"}

// SSTFile is one file ExtractSST wrote.
type SSTFile struct {
	Path   string // in the directory
	Trees  int    // the trees it holds (each was read and checked)
	SHA256 string // of the file as written (the zip member's bytes)
}

// DownloadSST fetches url (SSTURL for the official release) with client
// (http.DefaultClient if nil) and hands the bytes to ExtractSST with sum
// (SSTSHA256 for the official release; "" checks nothing). A status other
// than 200, a body over MaxArchiveBytes and a cancelled ctx are errors.
// Nothing is written unless everything checks out.
func DownloadSST(ctx context.Context, client *http.Client, url, sum, dir string) ([]SSTFile, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, errors.Wrapf(err, "tree: download %s", url)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, errors.Wrapf(err, "tree: download %s", url)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.Errorf("tree: download %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxArchiveBytes+1))
	if err != nil {
		return nil, errors.Wrapf(err, "tree: download %s: after %d bytes", url, len(data))
	}
	if len(data) > MaxArchiveBytes {
		return nil, errors.Wrapf(ErrArchive, "download %s: over %d bytes", url, MaxArchiveBytes)
	}
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		return nil, errors.Wrapf(ErrArchive, "download %s: %d of %d bytes (truncated)", url, len(data), resp.ContentLength)
	}
	files, err := ExtractSST(data, sum, dir)
	return files, errors.Wrapf(err, "download %s", url)
}

// ExtractSST checks data, the release's zip, against sum (a hex SHA-256;
// "" checks nothing), reads each of its SSTSplits (trees/train.txt …) as
// trees (Read: a label 0–4 on every node; a BOM, CRLF line ends and blank
// lines at the end tolerated), and only then writes them into dir (made if
// missing) as train.txt, dev.txt and test.txt, each to a temporary file
// renamed into place. A sum mismatch is ErrChecksum, data that is not the
// release's zip ErrArchive, a malformed tree a *ParseError naming the zip
// member and line; then nothing is written.
func ExtractSST(data []byte, sum, dir string) ([]SSTFile, error) {
	if dir == "" {
		return nil, errors.New("tree: no directory to extract SST into")
	}
	got := sha256.Sum256(data)
	if sum != "" {
		want, err := hex.DecodeString(strings.TrimSpace(sum))
		if err != nil || len(want) != sha256.Size {
			return nil, errors.Errorf("tree: expected SHA-256 %q is not 64 hex digits", sum)
		}
		if !bytes.Equal(want, got[:]) {
			return nil, errors.Wrapf(ErrChecksum, "SHA-256 of the %d bytes is %x, want %s; nothing written", len(data), got, strings.ToLower(strings.TrimSpace(sum)))
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, errors.Wrapf(ErrArchive, "%d bytes: %v (truncated or corrupt?); nothing written", len(data), err)
	}
	contents := make([][]byte, len(SSTSplits))
	files := make([]SSTFile, len(SSTSplits))
	for i, name := range SSTSplits {
		b, member, err := zipMember(zr, name)
		if err != nil {
			return nil, errors.Wrap(err, "nothing written")
		}
		trees, err := read(bytes.NewReader(b), "zip:"+member, SSTClasses)
		if err != nil {
			return nil, errors.Wrap(err, "nothing written")
		}
		if len(trees) == 0 {
			return nil, errors.Wrapf(ErrArchive, "%s holds no trees; nothing written", member)
		}
		sum := sha256.Sum256(b)
		contents[i] = b
		files[i] = SSTFile{Path: filepath.Join(dir, name), Trees: len(trees), SHA256: hex.EncodeToString(sum[:])}
	}
	return files, writeAll(dir, files, contents)
}

// zipMember returns the bytes of trees/name (or name at the top, for a
// re-packed zip) from zr.
func zipMember(zr *zip.Reader, name string) ([]byte, string, error) {
	var f *zip.File
	for _, c := range zr.File {
		if c.Name == "trees/"+name || (f == nil && c.Name == name) {
			f = c
		}
	}
	if f == nil {
		return nil, "", errors.Wrapf(ErrArchive, "no trees/%s in the zip", name)
	}
	if f.UncompressedSize64 > MaxArchiveBytes {
		return nil, "", errors.Wrapf(ErrArchive, "%s: %d bytes, over %d", f.Name, f.UncompressedSize64, MaxArchiveBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, "", errors.Wrapf(ErrArchive, "%s: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxArchiveBytes+1))
	if err != nil { // a checksum or decompression error: a corrupt member
		return nil, "", errors.Wrapf(ErrArchive, "%s: %v", f.Name, err)
	}
	if len(b) > MaxArchiveBytes {
		return nil, "", errors.Wrapf(ErrArchive, "%s: over %d bytes", f.Name, MaxArchiveBytes)
	}
	return b, f.Name, nil
}

// writeAll writes every file to a temporary file in dir and then renames
// them into place; on an error it removes what it wrote.
func writeAll(dir string, files []SSTFile, contents [][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errors.Wrap(err, "tree")
	}
	temps := make([]string, 0, len(files))
	cleanup := func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}
	for i, f := range files {
		tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.Path)+".*")
		if err != nil {
			cleanup()
			return errors.Wrap(err, "tree")
		}
		temps = append(temps, tmp.Name())
		_, err = tmp.Write(contents[i])
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			cleanup()
			return errors.Wrapf(err, "tree: writing %s", f.Path)
		}
	}
	for i, f := range files {
		if err := os.Rename(temps[i], f.Path); err != nil {
			cleanup()
			return errors.Wrapf(err, "tree: writing %s", f.Path)
		}
	}
	return nil
}
