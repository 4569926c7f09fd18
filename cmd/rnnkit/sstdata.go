package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/tree"
)

func init() {
	commands["sst-data"] = command{"download (or unpack) the Stanford Sentiment Treebank's official PTB trees into a directory", runSSTData}
}

func runSSTData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sst-data", "",
		"Downloads the Stanford Sentiment Treebank's official release in PTB bracket format\n"+
			"(trainDevTestTrees_PTB.zip), checks its SHA-256, reads every tree of trees/train.txt,\n"+
			"trees/dev.txt and trees/test.txt and only then writes them into -out as train.txt,\n"+
			"dev.txt and test.txt: what rnnkit train -preset sst-treelstm -data DIR reads. -zip\n"+
			"unpacks a zip downloaded by hand instead. The expected sum is the one public loaders\n"+
			"pin for the file (not computed on this project's machines, which have no internet);\n"+
			"-sha256 gives another, and an empty -sha256 checks nothing.", stderr)
	out := fs.String("out", "", "the directory to write train.txt, dev.txt and test.txt into (made if missing)")
	url := fs.String("url", tree.SSTURL, "where to download the release from")
	sum := fs.String("sha256", tree.SSTSHA256, "the SHA-256 the zip must have (hex); empty: not checked")
	zipFile := fs.String("zip", "", "unpack this zip instead of downloading")
	if help, err := parseOnlyFlags(fs, args, "sst-data"); help || err != nil {
		return err
	}
	if err := checks("sst-data", nonEmpty("out", *out), outputDir("out", *out), hexSum("sha256", *sum)); err != nil {
		return err
	}
	if *zipFile == "" {
		if err := checks("sst-data", nonEmpty("url", *url)); err != nil {
			return err
		}
	}
	if *sum == "" {
		fmt.Fprintln(stderr, "sst-data: -sha256 is empty: the zip's checksum is not checked")
	}
	var files []tree.SSTFile
	if *zipFile != "" {
		if err := inputFile("zip", *zipFile); err != nil {
			return usageError{"sst-data: " + err.Error()}
		}
		data, err := os.ReadFile(*zipFile)
		if err != nil {
			return errors.Wrap(err, "sst-data")
		}
		if files, err = tree.ExtractSST(data, *sum, *out); err != nil {
			return errors.Wrapf(err, "sst-data: -zip %s", *zipFile)
		}
	} else {
		fmt.Fprintf(stderr, "downloading %s\n", *url)
		var err error
		if files, err = tree.DownloadSST(ctx, nil, *url, *sum, *out); err != nil {
			return errors.Wrap(err, "sst-data")
		}
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "%s  %5d trees  sha256 %s\n", f.Path, f.Trees, f.SHA256)
	}
	return nil
}

// hexSum checks that a flag is empty or a SHA-256 in hex.
func hexSum(flag, v string) error {
	if v == "" {
		return nil
	}
	if b, err := hex.DecodeString(v); err != nil || len(b) != sha256.Size {
		return errors.Errorf("-%s %q is not a SHA-256 (64 hex digits)", flag, v)
	}
	return nil
}
