package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sstZipFile writes a small zip in the release's layout into dir and
// returns its path and SHA-256.
func sstZipFile(dir string) (string, string, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"trees/train.txt": "(3 (2 It) (4 works))\r\n(1 (1 bad) (2 film))\r\n",
		"trees/dev.txt":   "(2 (2 a) (3 b))\n",
		"trees/test.txt":  "(4 great)\n\n",
	} {
		f, err := w.Create(name)
		if err != nil {
			return "", "", err
		}
		if _, err := f.Write([]byte(content)); err != nil {
			return "", "", err
		}
	}
	if err := w.Close(); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	path := filepath.Join(dir, "sst.zip")
	sum := sha256.Sum256(buf.Bytes())
	return path, hex.EncodeToString(sum[:]), os.WriteFile(path, buf.Bytes(), 0o644)
}

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		z, sum, err := sstZipFile(filepath.Join(filepath.Dir(fx.dir), "sst-fixtures"))
		if err != nil {
			return []cliCommand{{name: fmt.Sprintf("sst-data fixtures: %v", err), base: []string{"sst-fixtures"}, rows: []cliRow{{flag: "x", value: "y"}}}}
		}
		return []cliCommand{{
			name: "sst-data",
			// a closed local port: a download fails at once (no internet here)
			base:  []string{"sst-data", "-zip", z, "-sha256", sum, "-url", "http://127.0.0.1:1/sst.zip", "-out", "{out}"},
			flags: []flagSpec{{"out", "outdir", "22", ""}, {"sha256", "string", "02", ""}, {"url", "string", "00", ""}},
			rows: []cliRow{
				{flag: "zip", value: "", code: 1, want: "download http://127.0.0.1:1/sst.zip"},
				{flag: "zip", value: "{missing}", code: 2, want: "-zip"},
				{flag: "zip", value: "{dir}", code: 2, want: "is a directory"},
				{flag: "zip", value: "{file}", code: 1, want: "checksum mismatch"},
				{flag: "sha256", value: strings.Repeat("0", 64), code: 1, want: "checksum mismatch"},
				{flag: "url", value: "", code: 2, want: "-url is empty", args: []string{"zip"}},
			},
		}}
	})
}

// sst-data unpacks the release's zip into train.txt, dev.txt and test.txt
// that train and eval read.
func TestSSTDataUnpacks(t *testing.T) {
	dir := t.TempDir()
	z, sum, err := sstZipFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sst")
	so, se, code := runCmd(t, "sst-data", "-zip", z, "-sha256", sum, "-out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	for name, n := range map[string]int{"train.txt": 2, "dev.txt": 1, "test.txt": 1} {
		if !strings.Contains(so, fmt.Sprintf("%s  %5d trees", filepath.Join(out, name), n)) {
			t.Errorf("no line for %s with %d trees in\n%s", name, n, so)
		}
	}
}
