package dialog

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// ReleaseURL is the official download location of DailyDialog (Li et al.
// 2017, http://yanran.li/dailydialog): a zip, ijcnlp_dailydialog.zip, that
// holds ijcnlp_dailydialog/{train,validation,test}.zip, each holding
// <split>/dialogues_<split>.txt beside the act and emotion labels.
const ReleaseURL = "http://yanran.li/files/ijcnlp_dailydialog.zip"

// KnownSHA256 are the SHA-256 sums rnnkit has seen of DailyDialog's
// files, by file name inside the release; the release zip's own sum is not
// among them (it was not available where rnnkit was written).
var KnownSHA256 = map[string]string{
	"validation/dialogues_validation.txt": "2ad64701fe3a4449e7a6ee7cdc6c2a71c80f77b8a34f708ac0532395f499081c",
}

// MaxDownloadBytes bounds a download (the release is about 4.5 MB).
const MaxDownloadBytes = 256 << 20

// Download fetches url into the file dst (written to a temporary file in
// its directory and renamed, so dst is never half written) and returns its
// SHA-256 in hex. With wantSHA256 not empty, a different sum is an error
// wrapping [ErrChecksum] and dst is not written. A status other than 200
// and a body over MaxDownloadBytes are errors.
func Download(ctx context.Context, client *http.Client, url, dst, wantSHA256 string) (string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", errors.Wrap(err, "dialog: download")
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", errors.Wrap(err, "dialog: download")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", errors.Errorf("dialog: download %s: %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return "", errors.Wrap(err, "dialog: download")
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, MaxDownloadBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", errors.Wrapf(err, "dialog: download %s", url)
	}
	if n > MaxDownloadBytes {
		return "", errors.Errorf("dialog: download %s: larger than %d bytes", url, MaxDownloadBytes)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if wantSHA256 != "" && sum != wantSHA256 {
		return sum, errors.Wrapf(ErrChecksum, "download %s: SHA-256 %s, want %s", url, sum, wantSHA256)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", errors.Wrap(err, "dialog: download")
	}
	return sum, nil
}

// Splits are the splits of the release.
var Splits = []string{"train", "validation", "test"}

// ReadRelease reads split ("train", "validation" or "test") out of the
// release zip at path: ijcnlp_dailydialog/<split>.zip inside it, then
// <split>/dialogues_<split>.txt inside that, parsed by [Read].
func ReadRelease(path, split string, opt Options) ([]Dialogue, error) {
	ok := false
	for _, s := range Splits {
		ok = ok || s == split
	}
	if !ok {
		return nil, errors.Errorf("dialog: split %q (want train, validation or test)", split)
	}
	outer, err := zip.OpenReader(path)
	if err != nil {
		return nil, errors.Wrapf(err, "dialog: %s", path)
	}
	defer outer.Close()
	inner, err := readZipFile(&outer.Reader, "ijcnlp_dailydialog/"+split+".zip")
	if err != nil {
		return nil, errors.Wrapf(err, "dialog: %s", path)
	}
	zr, err := zip.NewReader(bytes.NewReader(inner), int64(len(inner)))
	if err != nil {
		return nil, formatf("dialog: %s: %s.zip: %v", path, split, err)
	}
	name := fmt.Sprintf("%s/dialogues_%s.txt", split, split)
	text, err := readZipFile(zr, name)
	if err != nil {
		return nil, errors.Wrapf(err, "dialog: %s: %s.zip", path, split)
	}
	ds, err := read(bytes.NewReader(text), opt)
	return ds, errors.Wrapf(err, "dialog: %s: %s", path, name)
}

// readZipFile returns the contents of the file name in z, at most
// MaxDownloadBytes.
func readZipFile(z *zip.Reader, name string) ([]byte, error) {
	for _, f := range z.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, formatf("%s: %v", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, MaxDownloadBytes+1))
		if err != nil {
			return nil, formatf("%s: %v", name, err)
		}
		if len(b) > MaxDownloadBytes {
			return nil, formatf("%s: larger than %d bytes", name, MaxDownloadBytes)
		}
		return b, nil
	}
	return nil, formatf("no %s in the zip", name)
}
