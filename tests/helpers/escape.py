#!/usr/bin/env python3
# Escape attempts for the sandbox tests: each subcommand tries one thing an
# agent could use to get out and prints "allowed" (exit 0) or
# "denied <errno name>" (exit 1). Raw syscalls through ctypes, so what is
# tested is the kernel's answer, not a library's.
import ctypes
import errno
import os
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

NR = {
    "ptrace": 101, "keyctl": 250, "bpf": 321, "io_uring_setup": 425,
    "unshare": 272, "mount": 165, "openat2": 437, "memfd_create": 319,
    "execveat": 322, "process_vm_readv": 310, "perf_event_open": 298,
    "setns": 308, "open_by_handle_at": 304, "userfaultfd": 323,
    "landlock_create_ruleset": 444, "landlock_restrict_self": 446,
    "init_module": 175,
}
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000


def result(r):
    if r < 0:
        e = ctypes.get_errno()
        print("denied", errno.errorcode.get(e, str(e)))
        sys.exit(1)
    print("allowed")
    sys.exit(0)


def sc(name, *args):
    return libc.syscall(NR[name], *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])


def main():
    what = sys.argv[1]
    arg = sys.argv[2] if len(sys.argv) > 2 else None
    if what == "io_uring":
        params = ctypes.create_string_buffer(120)
        result(sc("io_uring_setup", 4, params))
    elif what == "ptrace":
        result(sc("ptrace", 16, int(arg), 0, 0))  # PTRACE_ATTACH
    elif what == "process_vm":
        buf = ctypes.create_string_buffer(8)
        iov = struct.pack("QQ", ctypes.addressof(buf), 8)
        liov = ctypes.create_string_buffer(iov)
        result(sc("process_vm_readv", int(arg), liov, 1, liov, 1, 0))
    elif what == "bpf":
        attr = ctypes.create_string_buffer(128)
        result(sc("bpf", 0, attr, 128))  # BPF_MAP_CREATE (zeroed attr)
    elif what == "keyctl":
        result(sc("keyctl", 0, -3, 0))  # KEYCTL_GET_KEYRING_ID session
    elif what == "unshare-user":
        result(sc("unshare", CLONE_NEWUSER))
    elif what == "unshare-mount":
        result(sc("unshare", CLONE_NEWNS))
    elif what == "mount":
        result(sc("mount", b"none", b"/tmp", b"tmpfs", 0, 0))
    elif what == "perf":
        attr = ctypes.create_string_buffer(128)
        result(sc("perf_event_open", attr, 0, -1, -1, 0))
    elif what == "read":
        try:
            with open(arg, "rb") as f:
                f.read(1)
            result(0)
        except OSError as e:
            ctypes.set_errno(e.errno)
            result(-1)
    elif what == "write":
        try:
            with open(arg, "ab") as f:
                f.write(b"agentwall-test\n")
            result(0)
        except OSError as e:
            ctypes.set_errno(e.errno)
            result(-1)
    elif what == "openat2":
        # struct open_how {flags, mode, resolve}: RESOLVE_NO_MAGICLINKS off
        how = struct.pack("QQQ", os.O_RDONLY, 0, 0)
        fd = sc("openat2", -100, arg.encode(), ctypes.create_string_buffer(how), 24)
        if fd >= 0:
            try:
                os.read(fd, 1)
            except OSError as e:
                ctypes.set_errno(e.errno)
                result(-1)
        result(fd)
    elif what == "opath-reopen":
        try:
            fd = os.open(arg, os.O_PATH)
            with open("/proc/self/fd/%d" % fd, "rb") as f:
                f.read(1)
            result(0)
        except OSError as e:
            ctypes.set_errno(e.errno)
            result(-1)
    elif what == "connect":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(arg)
            result(0)
        except OSError as e:
            ctypes.set_errno(e.errno)
            result(-1)
    elif what == "connect-abstract":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect("\0" + arg)
            result(0)
        except OSError as e:
            ctypes.set_errno(e.errno)
            result(-1)
    elif what == "kill":
        try:
            os.kill(int(arg), 0)
            result(0)
        except OSError as e:
            ctypes.set_errno(e.errno)
            result(-1)
    elif what == "memfd-exec":
        # Run a copy of the given binary from a memfd (no path on disk),
        # with the rest of argv as its arguments.
        fd = sc("memfd_create", b"x", 0)
        if fd < 0:
            result(fd)
        with open(arg, "rb") as f:
            os.write(fd, f.read())
        args = [arg] + sys.argv[3:]
        argv = (ctypes.c_char_p * (len(args) + 1))(*[a.encode() for a in args], None)
        envp = (ctypes.c_char_p * 1)(None)
        result(sc("execveat", fd, b"", argv, envp, 0x1000))  # AT_EMPTY_PATH
    elif what == "landlock":
        # An agent's own Landlock domain inside ours (nesting is allowed).
        attr = struct.pack("Q", 1 << 1)  # handled: write_file
        fd = sc("landlock_create_ruleset", ctypes.create_string_buffer(attr), 8, 0)
        if fd < 0:
            result(fd)
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
        result(sc("landlock_restrict_self", fd, 0))
    else:
        print("unknown test", what)
        sys.exit(2)


main()
