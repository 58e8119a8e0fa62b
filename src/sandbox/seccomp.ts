/**
 * The seccomp filter bubblewrap loads before the harness starts: no new user namespaces for
 * anything in the sandbox (`unshare` or `clone` with CLONE_NEWUSER fail with EPERM; `clone3`,
 * whose flags a filter cannot read, fails with ENOSYS so the C library falls back to `clone`).
 * A user namespace would give a candidate no power outside it, but it opens much of the kernel's
 * attack surface. Written as classic BPF (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k).
 */

const AUDIT_ARCH: Partial<Record<NodeJS.Architecture, { arch: number; unshare: number; clone: number }>> = {
  x64: { arch: 0xc000003e, unshare: 272, clone: 56 },
  arm64: { arch: 0xc00000b7, unshare: 97, clone: 220 },
};
const NR_CLONE3 = 435; // the same on both
const X32_SYSCALL_BIT = 0x40000000;
const CLONE_NEWUSER = 0x10000000;

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;

/** offsets in struct seccomp_data */
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16; // args[0], low 32 bits (little-endian)

type Instruction = [code: number, jt: number, jf: number, k: number];

/** The filter for this machine's architecture, or undefined where it has none (nothing is filtered). */
export function noUserNamespacesFilter(arch: NodeJS.Architecture = process.arch): Buffer | undefined {
  const nr = AUDIT_ARCH[arch];
  if (!nr) return undefined;
  // Jump offsets count instructions after the current one.
  const program: Instruction[] = [
    /* 0 */ [LD_W_ABS, 0, 0, ARCH],
    /* 1 */ [JEQ_K, 1, 0, nr.arch],
    /* 2 */ [RET_K, 0, 0, RET_ERRNO | EPERM], // another ABI (i386 on x86-64): refuse the call
    /* 3 */ [LD_W_ABS, 0, 0, NR],
    /* 4 */ [JGE_K, 5, 0, X32_SYSCALL_BIT], // x32 numbers: refuse
    /* 5 */ [JEQ_K, 5, 0, NR_CLONE3],
    /* 6 */ [JEQ_K, 1, 0, nr.unshare],
    /* 7 */ [JEQ_K, 0, 4, nr.clone],
    /* 8 */ [LD_W_ABS, 0, 0, ARG0_LOW],
    /* 9 */ [JSET_K, 0, 2, CLONE_NEWUSER],
    /* 10 */ [RET_K, 0, 0, RET_ERRNO | EPERM],
    /* 11 */ [RET_K, 0, 0, RET_ERRNO | ENOSYS],
    /* 12 */ [RET_K, 0, 0, RET_ALLOW],
  ];
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    buffer.writeUInt16LE(code, i * 8);
    buffer.writeUInt8(jt, i * 8 + 2);
    buffer.writeUInt8(jf, i * 8 + 3);
    buffer.writeUInt32LE(k, i * 8 + 4);
  });
  return buffer;
}
