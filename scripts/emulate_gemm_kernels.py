#!/usr/bin/python3
"""Run internal/gemm's assembly micro-kernels in an interpreter of their
disassembly, so that kernels this CPU cannot execute (AVX-512) are checked
all the same.

    /usr/bin/python3 scripts/emulate_gemm_kernels.py [-binary gemm.test]

It builds internal/gemm's test binary (or takes one), disassembles each
kernel with GNU objdump (binutils: a decoder independent of Go's
assembler), interprets the instructions on exactly representable data
(values k/8, so every product and sum is exact and the order of rounding
does not matter) for several k (the unrolled loop and its tail), alpha and
ldc, and compares the C tile left in memory, padding included, with
C + alpha*A*B. The AVX2 kernels, which the Go tests run on the CPU, check
the interpreter itself. It exits non-zero when a kernel is wrong or uses an
instruction the interpreter does not know. Run it from the repository root.
"""
import argparse, os, random, re, struct, subprocess, sys, tempfile

KERNELS = [("sgemmKernel6x16", 6, 16, 4), ("dgemmKernel6x8", 6, 8, 8),
           ("sgemmKernel12x32", 12, 32, 4), ("dgemmKernel12x16", 12, 16, 8)]
PKG = "github.com/rnnkit/rnnkit/internal/gemm"

prog, order, nxt = {}, [], {}
ES, FMT = 4, 'f'


def load(dis, symbol):
    prog.clear(); order.clear(); nxt.clear()
    start = dis.index('<%s>:' % symbol)
    for line in dis[start:].splitlines()[1:]:
        m = re.match(r'\s*([0-9a-f]+):\s+(\S+)\s*(.*)$', line)
        if not m:
            if line.strip() == '':
                break
            continue
        addr, op, args = int(m.group(1), 16), m.group(2), m.group(3).split('#')[0].strip()
        if op == 'int3':
            break
        prog[addr] = (op, args)
        order.append(addr)
    for i, a in enumerate(order):
        nxt[a] = order[i + 1] if i + 1 < len(order) else None

MEM = bytearray(1 << 22)
BASE = 0x1000
gpr = {}
vec = {}
zf = [False]
counts = {}

def split_args(s):
    out, depth, cur = [], 0, ''
    for ch in s:
        if ch == '(':
            depth += 1
        if ch == ')':
            depth -= 1
        if ch == ',' and depth == 0:
            out.append(cur); cur = ''
        else:
            cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]

def ea(opnd):
    m = re.match(r'(-?0x[0-9a-f]+|-?\d+)?\((%\w+)?(?:,(%\w+),(\d))?\)$', opnd)
    assert m, opnd
    disp = int(m.group(1), 0) if m.group(1) else 0
    a = disp + (gpr[m.group(2)[1:]] if m.group(2) else 0)
    if m.group(3):
        a += gpr[m.group(3)[1:]] * int(m.group(4))
    return a - BASE

def width(r):
    return {'x': 16, 'y': 32, 'z': 64}[r[1]]

def getv(r):
    return vec.get(r[2:], bytes(64))[:width(r)]

def setv(r, b):
    vec[r[2:]] = bytes(b) + bytes(64 - len(b))

def lanes(b, f):
    n = len(b) // struct.calcsize(f)
    return list(struct.unpack('<%d%s' % (n, f), b))

def pack(xs, f):
    return struct.pack('<%d%s' % (len(xs), f), *xs)

def isreg(o):
    return o.startswith('%')

def run(k, a, b, c, ldc, alpha, zero=0):
    # memory: stack at 0, A, B, C regions
    sp = 0x100
    offA, offB, offC = 0x1000, 0x40000, 0x80000
    MEM[offA:offA + len(a) * ES] = pack(a, FMT)
    MEM[offB:offB + len(b) * ES] = pack(b, FMT)
    MEM[offC:offC + len(c) * ES] = pack(c, FMT)
    for off, v in [(8, k), (16, offA + BASE), (24, offB + BASE), (32, offC + BASE), (40, ldc)]:
        MEM[sp + off:sp + off + 8] = struct.pack('<q', v)
    MEM[sp + 48:sp + 48 + ES] = pack([alpha], FMT)
    MEM[sp + 48 + ES] = zero  # the zero flag, the byte after alpha
    gpr.clear(); vec.clear()
    gpr['rsp'] = sp + BASE
    pc = order[0]
    steps = 0
    while True:
        steps += 1
        assert steps < 10 ** 6
        op, args = prog[pc]
        counts[op] = counts.get(op, 0) + 1
        ops = split_args(args)
        target = None
        if op == 'mov':
            s, d = ops
            if isreg(s):
                gpr[d[1:]] = gpr[s[1:]]
            else:
                gpr[d[1:]] = struct.unpack('<q', MEM[ea(s):ea(s) + 8])[0]
        elif op in ('shl', 'shr', 'and', 'add', 'sub'):
            s, d = ops
            v = int(s[1:], 0) if s.startswith('$') else gpr[s[1:]]
            x = gpr[d[1:]]
            x = {'shl': x << v, 'shr': x >> v, 'and': x & v, 'add': x + v, 'sub': x - v}[op]
            gpr[d[1:]] = x
            zf[0] = x == 0
        elif op == 'cmpb':
            s, d = ops   # cmpb $imm, mem: ZF = (mem byte == imm)
            zf[0] = MEM[ea(d)] == int(s[1:], 0)
        elif op == 'test':
            s, d = ops
            zf[0] = (gpr[s[1:]] & gpr[d[1:]]) == 0
        elif op == 'dec':
            gpr[ops[0][1:]] -= 1
            zf[0] = gpr[ops[0][1:]] == 0
        elif op in ('je', 'jne'):
            t = int(ops[0].split()[0], 16)
            if (op == 'je') == zf[0]:
                target = t
        elif op.startswith('prefetch'):
            ea(ops[0])
        elif op in ('vxorps', 'vpxord', 'vxorpd'):
            assert ops[0] == ops[1] == ops[2], args
            setv(ops[2], bytes(width(ops[2])))
        elif op in ('vmovups', 'vmovupd'):
            s, d = ops
            if isreg(s) and isreg(d):
                setv(d, getv(s))
            elif isreg(s):
                w = width(s)
                MEM[ea(d):ea(d) + w] = getv(s)
            else:
                w = width(d)
                setv(d, MEM[ea(s):ea(s) + w])
        elif op in ('vbroadcastss', 'vbroadcastsd'):
            s, d = ops
            e = 4 if op.endswith('ss') else 8
            w = width(d)
            setv(d, bytes(MEM[ea(s):ea(s) + e]) * (w // e))
        elif op in ('vfmadd231ps', 'vfmadd231pd'):
            f = 'f' if op.endswith('ps') else 'd'
            s2, s1, d = ops   # AT&T: d = s1*s2 + d
            x, y, z = lanes(getv(s2), f), lanes(getv(s1), f), lanes(getv(d), f)
            r = [yy * xx + zz for xx, yy, zz in zip(x, y, z)]
            setv(d, pack(r, f))
        elif op == 'vzeroupper':
            for r in list(vec):
                vec[r] = vec[r][:16] + bytes(48)
        elif op == 'ret':
            break
        else:
            raise SystemExit('unknown instruction %s %s' % (op, args))
        pc = target if target is not None else nxt[pc]
    return lanes(bytes(MEM[offC:offC + len(c) * ES]), FMT)

def check(symbol, MR, NR):
    random.seed(1)
    bad = 0
    counts.clear()
    cases = 0
    for k in [1, 2, 3, 4, 5, 7, 8, 9, 13]:
        for alpha in [1.0, 0.5, -2.0]:
            for zero in [0, 1]:
                cases += 1
                ldc = NR + random.randrange(0, 9)
                val = lambda: random.randrange(-64, 65) / 8
                a = [val() for _ in range(MR * k)]
                b = [val() for _ in range(NR * k)]
                c = [val() for _ in range((MR - 1) * ldc + NR + 5)]
                want = list(c)
                for r in range(MR):
                    for j in range(NR):
                        s = sum(a[q * MR + r] * b[q * NR + j] for q in range(k))
                        want[r * ldc + j] = (0.0 if zero else c[r * ldc + j]) + alpha * s
                got = run(k, a, b, c, ldc, alpha, zero)
                if got != want:
                    bad += 1
                    diff = [i for i in range(len(c)) if got[i] != want[i]]
                    print('  k=%d alpha=%g zero=%d ldc=%d: %d elements differ, first at %d (row %d col %d): got %g want %g' % (
                        k, alpha, zero, ldc, len(diff), diff[0], diff[0] // ldc, diff[0] % ldc, got[diff[0]], want[diff[0]]))
    print('%s %dx%d: %d of %d cases wrong (%d instructions interpreted)' % (symbol, MR, NR, bad, cases, sum(counts.values())))
    return bad == 0


def main():
    global ES, FMT
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('-binary', help='internal/gemm test binary (default: built with go test -c)')
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        binary = args.binary
        if not binary:
            binary = os.path.join(tmp, 'gemm.test')
            subprocess.run(['go', 'test', '-c', '-o', binary, './internal/gemm'], check=True)
        out = subprocess.run(['objdump', '-d', '--no-show-raw-insn', binary], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit('objdump failed: ' + out.stderr)
        ok = True
        for name, mr, nr, es in KERNELS:
            ES, FMT = es, ('f' if es == 4 else 'd')
            load(out.stdout, '%s.%s.abi0' % (PKG, name))
            ok = check(name, mr, nr) and ok
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
