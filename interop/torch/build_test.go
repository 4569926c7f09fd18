package torch

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// This file builds .pt files by hand for the bad-input tests and the fuzz
// seeds: pickles byte by byte, zip archives with archive/zip, legacy files
// by concatenation. Nothing here is ever run by Python.

// pk writes pickle opcodes.
type pk struct{ bytes.Buffer }

func newPickle(proto byte) *pk {
	p := &pk{}
	p.WriteByte(opProto)
	p.WriteByte(proto)
	return p
}

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }

// str writes a BINUNICODE string.
func (p *pk) str(s string) *pk {
	p.WriteByte(opBinUnicode)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.Write(n[:])
	p.WriteString(s)
	return p
}

// int writes an int as LONG1 of 8 bytes (any int64).
func (p *pk) int(v int64) *pk {
	p.WriteByte(opLong1)
	p.WriteByte(8)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(v))
	p.Write(n[:])
	return p
}

func (p *pk) ints(vs ...int64) *pk {
	p.op(opMark)
	for _, v := range vs {
		p.int(v)
	}
	return p.op(opTuple)
}

func (p *pk) global(module, name string) *pk {
	p.WriteByte(opGlobal)
	p.WriteString(module + "\n" + name + "\n")
	return p
}

func (p *pk) stop() []byte { p.WriteByte(opStop); return p.Bytes() }

// fake describes one tensor of a hand-built state_dict.
type fake struct {
	name    string
	storage string // torch.<storage>, e.g. FloatStorage
	key     string
	numel   int64 // the storage's element count in the persistent id
	offset  int64
	shape   []int64
	stride  []int64
}

// tensor writes _rebuild_tensor_v2((persistent id), offset, shape, stride,
// False, OrderedDict()).
func (p *pk) tensor(f fake, legacy bool) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark)
	p.op(opMark).str("storage").global("torch", f.storage).str(f.key).str("cpu").int(f.numel)
	if legacy {
		p.op(opNone)
	}
	p.op(opTuple, opBinPersID)
	p.int(f.offset).ints(f.shape...).ints(f.stride...).op(opNewFalse)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
	return p.op(opTuple, opReduce)
}

// stateDict pickles an OrderedDict of the fake tensors.
func stateDict(legacy bool, fs ...fake) []byte {
	p := newPickle(2)
	p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
	p.op(opMark)
	for _, f := range fs {
		p.str(f.name).tensor(f, legacy)
	}
	return p.op(opSetItems).stop()
}

// record is one zip record.
type record struct {
	name string
	data []byte
}

func zipOf(t testing.TB, recs ...record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, r := range recs {
		f, err := w.CreateHeader(&zip.FileHeader{Name: r.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipFile is a zip-format file: data.pkl and the storages by key.
func zipFile(t testing.TB, pkl []byte, storages ...record) []byte {
	recs := []record{{"archive/data.pkl", pkl}}
	for _, s := range storages {
		recs = append(recs, record{"archive/data/" + s.name, s.data})
	}
	recs = append(recs, record{"archive/version", []byte("3\n")})
	return zipOf(t, recs...)
}

// Legacy header pickles, as torch 1.13 writes them.
var (
	legacyMagicPickle = []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.")
	legacyProtoPickle = []byte("\x80\x02M\xe9\x03.")
)

func sysInfo(littleEndian bool) []byte {
	p := newPickle(2).op(opEmptyDict, opMark).str("protocol_version").int(1001).str("little_endian")
	if littleEndian {
		p.op(opNewTrue)
	} else {
		p.op(opNewFalse)
	}
	return p.op(opSetItems).stop()
}

// legacyFile is a legacy-format file: the header pickles, the object
// pickle, the keys and each storage with its element count.
func legacyFile(pkl []byte, storages ...legacyStorage) []byte {
	var b bytes.Buffer
	b.Write(legacyMagicPickle)
	b.Write(legacyProtoPickle)
	b.Write(sysInfo(true))
	b.Write(pkl)
	keys := newPickle(2).op(opEmptyList, opMark)
	for _, s := range storages {
		keys.str(s.key)
	}
	b.Write(keys.op(opAppends).stop())
	for _, s := range storages {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(s.numel))
		b.Write(n[:])
		b.Write(s.data)
	}
	return b.Bytes()
}

type legacyStorage struct {
	key   string
	numel int64
	data  []byte
}

// float32s is the little-endian bytes of values.
func float32s(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
