package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/big"
	"strings"

	"github.com/pkg/errors"
)

const (
	// maxPickleBytes bounds data.pkl in a zip file.
	maxPickleBytes = 1 << 30
	// deflateRatio bounds what a deflated record may expand to (deflate's
	// largest ratio is about 1032:1).
	deflateRatio = 1032
)

// storages resolves persistent ids ('storage', type, key, location,
// numel[, view_metadata]) to storage references, one root per key.
type storages struct {
	legacy bool
	roots  map[string]*rootStorage
	order  []*rootStorage // first reference order
}

func newStorages(legacy bool) *storages {
	return &storages{legacy: legacy, roots: map[string]*rootStorage{}}
}

func (s *storages) load(pid any) (any, error) {
	t, ok := pid.(tuple)
	want := 5
	if s.legacy {
		want = 6
	}
	if !ok || len(t) != want {
		return nil, errors.Wrapf(ErrFormat, "persistent id is a %s, want a tuple of %d", pyType(pid), want)
	}
	if typ, _ := t[0].(string); typ != "storage" {
		return nil, errors.Wrapf(ErrFormat, "persistent id of kind %s, want 'storage'", pyType(t[0]))
	}
	g, ok := t[1].(global)
	if !ok || allowed[g] != kindStorageType {
		return nil, errors.Wrapf(ErrFormat, "persistent id with storage type %s", pyType(t[1]))
	}
	dt := storageTypes[g.name]
	key, ok1 := t[2].(string)
	_, ok2 := t[3].(string) // location: "cpu", "cuda:0", … — all read onto the CPU
	numel, ok3 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 {
		return nil, errors.Wrapf(ErrFormat, "persistent id (%s, %s, %s, %s, %s)", pyType(t[0]), pyType(t[1]), pyType(t[2]), pyType(t[3]), pyType(t[4]))
	}
	if numel < 0 || numel > math.MaxInt64/dt.size {
		return nil, errors.Wrapf(ErrFormat, "storage %q of %d elements", key, numel)
	}
	root, ok := s.roots[key]
	if !ok {
		root = &rootStorage{key: key, dt: dt, numel: numel}
		s.roots[key] = root
		s.order = append(s.order, root)
	} else if root.dt != dt || root.numel != numel {
		return nil, errors.Wrapf(ErrFormat, "storage %q is both %s×%d and %s×%d", key, root.dt.name, root.numel, dt.name, numel)
	}
	ref := &storageRef{root: root, numel: numel}
	if s.legacy && t[5] != nil {
		// view_metadata (view_key, offset, view_size) of PyTorch < 1.0:
		// the storage is root[offset:offset+view_size].
		v, ok := t[5].(tuple)
		if !ok || len(v) != 3 {
			return nil, errors.Wrapf(ErrFormat, "storage %q: view metadata is a %s", key, pyType(t[5]))
		}
		_, ok1 := v[0].(string)
		off, ok2 := v[1].(int64)
		n, ok3 := v[2].(int64)
		if !ok1 || !ok2 || !ok3 || off < 0 || n < 0 || off > numel || n > numel-off {
			return nil, errors.Wrapf(ErrFormat, "storage %q of %d elements: bad view metadata", key, numel)
		}
		ref.offset, ref.numel = off, n
	}
	return ref, nil
}

// readZip reads the zip format: <dir>/data.pkl and the storages
// <dir>/data/<key>, where <dir> is any one folder name.
func readZip(r io.ReaderAt, size int64) (*StateDict, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, errors.Wrapf(ErrFormat, "not a readable zip archive: %v", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	var pkl []string
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return nil, errors.Wrapf(ErrFormat, "zip archive holds %q twice", f.Name)
		}
		files[f.Name] = f
		if dir, ok := strings.CutSuffix(f.Name, "/data.pkl"); ok && dir != "" && !strings.Contains(dir, "/") {
			pkl = append(pkl, f.Name)
		}
	}
	if len(pkl) != 1 {
		for name := range files {
			if strings.HasSuffix(name, "constants.pkl") {
				return nil, errors.Wrap(ErrFormat, "a TorchScript archive (torch.jit.save), not a state_dict")
			}
		}
		return nil, errors.Wrapf(ErrFormat, "zip archive with %d <folder>/data.pkl records, want 1", len(pkl))
	}
	prefix := strings.TrimSuffix(pkl[0], "data.pkl")
	if _, ok := files[prefix+"constants.pkl"]; ok {
		return nil, errors.Wrap(ErrFormat, "a TorchScript archive (torch.jit.save), not a state_dict")
	}
	if f, ok := files[prefix+"byteorder"]; ok {
		b, err := readRecord(f, size, -1, 64)
		if err != nil {
			return nil, err
		}
		if order := strings.TrimSpace(string(b)); order != "little" {
			return nil, errors.Wrapf(ErrFormat, "byteorder %s: only little-endian storages are read", truncate([]byte(order)))
		}
	}
	data, err := readRecord(files[pkl[0]], size, -1, maxPickleBytes)
	if err != nil {
		return nil, err
	}
	st := newStorages(false)
	u := newUnpickler(newSource(bytes.NewReader(data), 0, int64(len(data))), pkl[0], st.load)
	top, err := u.load()
	if err != nil {
		return nil, err
	}
	// Every storage the pickle refers to must be a record of its size.
	for _, root := range st.order {
		name := prefix + "data/" + root.key
		f, ok := files[name]
		if !ok {
			return nil, errors.Wrapf(ErrFormat, "storage %q: no record %s", root.key, truncate([]byte(name)))
		}
		if want := root.numel * root.dt.size; f.UncompressedSize64 != uint64(want) {
			return nil, errors.Wrapf(ErrFormat, "storage %q: record %s holds %d bytes, want %d (%d × %s)",
				root.key, truncate([]byte(name)), f.UncompressedSize64, want, root.numel, root.dt.name)
		}
		if err := checkRecordSize(f, size); err != nil {
			return nil, err
		}
	}
	return assemble(top, "zip", func(root *rootStorage) ([]byte, error) {
		want := root.numel * root.dt.size
		return readRecord(files[prefix+"data/"+root.key], size, want, want)
	})
}

// checkRecordSize refuses a record whose stated size its bytes in the file
// cannot hold.
func checkRecordSize(f *zip.File, fileSize int64) error {
	c, u := f.CompressedSize64, f.UncompressedSize64
	switch {
	case c > uint64(fileSize):
		return errors.Wrapf(ErrFormat, "record %s: %d compressed bytes in a file of %d", truncate([]byte(f.Name)), c, fileSize)
	case f.Method == zip.Store && u != c:
		return errors.Wrapf(ErrFormat, "record %s: stored, but %d bytes become %d", truncate([]byte(f.Name)), c, u)
	case f.Method != zip.Store && u > deflateRatio*c+64:
		return errors.Wrapf(ErrFormat, "record %s: %d compressed bytes cannot become %d", truncate([]byte(f.Name)), c, u)
	}
	return nil
}

// readRecord reads a zip record whole, checking its CRC: exactly want
// bytes (want ≥ 0) or any number up to max (want < 0).
func readRecord(f *zip.File, fileSize, want, max int64) ([]byte, error) {
	name := truncate([]byte(f.Name))
	if err := checkRecordSize(f, fileSize); err != nil {
		return nil, err
	}
	if f.UncompressedSize64 > uint64(max) {
		return nil, errors.Wrapf(ErrFormat, "record %s of %d bytes (at most %d)", name, f.UncompressedSize64, max)
	}
	n := int64(f.UncompressedSize64)
	if want >= 0 && n != want {
		return nil, errors.Wrapf(ErrFormat, "record %s holds %d bytes, want %d", name, n, want)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, errors.Wrapf(ErrFormat, "record %s: %v", name, err)
	}
	defer rc.Close()
	// A stored record's size is checked against the file: allocate it at
	// once. A deflated one grows with the bytes it gives, so that a size
	// that lies costs no more than the bytes that are there.
	var out []byte
	if f.Method == zip.Store {
		out = make([]byte, 0, n)
	}
	for int64(len(out)) < n {
		step := n - int64(len(out))
		if step > allocStep {
			step = allocStep
		}
		done := len(out)
		out = append(out, make([]byte, step)...)
		if _, err := io.ReadFull(rc, out[done:]); err != nil {
			return nil, errors.Wrapf(ErrFormat, "record %s: %v", name, err)
		}
	}
	// Reading on to the end makes archive/zip check the CRC-32.
	var one [1]byte
	if k, err := rc.Read(one[:]); k != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			return nil, errors.Wrapf(ErrFormat, "record %s is longer than its %d bytes", name, n)
		}
		return nil, errors.Wrapf(ErrFormat, "record %s: %v", name, err)
	}
	return out, nil
}

// readLegacy reads the format of _use_new_zipfile_serialization=False: the
// pickles of the magic number, the protocol version and the system info,
// the object pickle, the pickle of the storage keys, then each storage as
// an int64 element count followed by its bytes.
func readLegacy(r io.ReaderAt, size int64) (*StateDict, error) {
	src := newSource(r, 0, size)
	magic, err := newUnpickler(src, "the magic-number pickle", nil).load()
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Text(16) != legacyMagic {
		return nil, errors.Wrapf(ErrFormat, "wrong magic number (a %s): not a PyTorch file", pyType(magic))
	}
	proto, err := newUnpickler(src, "the protocol pickle", nil).load()
	if err != nil {
		return nil, err
	}
	if p, ok := proto.(int64); !ok || p != legacyProtocol {
		return nil, errors.Wrapf(ErrFormat, "legacy protocol version is a %s, want %d", pyType(proto), legacyProtocol)
	}
	info, err := newUnpickler(src, "the sys-info pickle", nil).load()
	if err != nil {
		return nil, err
	}
	d, ok := info.(*dict)
	if !ok {
		return nil, errors.Wrapf(ErrFormat, "sys info is a %s, not a dict", pyType(info))
	}
	if le, ok := d.get("little_endian"); ok && le != true {
		return nil, errors.Wrap(ErrFormat, "the file was written big-endian: only little-endian storages are read")
	}
	st := newStorages(true)
	top, err := newUnpickler(src, "the object pickle", st.load).load()
	if err != nil {
		return nil, err
	}
	keysVal, err := newUnpickler(src, "the storage-key pickle", nil).load()
	if err != nil {
		return nil, err
	}
	keys, ok := keysVal.(*list)
	if !ok {
		return nil, errors.Wrapf(ErrFormat, "storage keys are a %s, not a list", pyType(keysVal))
	}
	// The storages follow in the keys' order; find where each one's bytes
	// lie.
	offsets := map[*rootStorage]int64{}
	for i, k := range keys.items {
		key, ok := k.(string)
		if !ok {
			return nil, errors.Wrapf(ErrFormat, "storage key %d is a %s", i, pyType(k))
		}
		root, ok := st.roots[key]
		if !ok {
			return nil, errors.Wrapf(ErrFormat, "storage %q is in the file but no tensor refers to it", key)
		}
		if _, dup := offsets[root]; dup {
			return nil, errors.Wrapf(ErrFormat, "storage %q is in the file twice", key)
		}
		at := src.pos
		head, err := src.read(8)
		if err != nil {
			return nil, errors.Wrapf(err, "storage %q", key)
		}
		if n := int64(binary.LittleEndian.Uint64(head)); n != root.numel {
			return nil, errors.Wrapf(ErrFormat, "storage %q at byte %d: %d elements, the pickle says %d", key, at, n, root.numel)
		}
		offsets[root] = src.pos
		if err := src.skip(root.numel * root.dt.size); err != nil {
			return nil, errors.Wrapf(err, "storage %q of %d × %s", key, root.numel, root.dt.name)
		}
	}
	for _, root := range st.order {
		if _, ok := offsets[root]; !ok {
			return nil, errors.Wrapf(ErrFormat, "storage %q is referred to but not in the file", root.key)
		}
	}
	return assemble(top, "legacy", func(root *rootStorage) ([]byte, error) {
		s := newSource(r, offsets[root], size)
		b, err := s.read(root.numel * root.dt.size)
		return b, errors.Wrapf(err, "storage %q", root.key)
	})
}
