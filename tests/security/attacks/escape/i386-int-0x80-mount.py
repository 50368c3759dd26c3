# verdicts: sandbox_violation, failed
import ctypes, mmap

# push rbx; mov eax, 21 (i386 mount); xor ebx/ecx/edx/esi/edi; int 0x80; pop rbx; ret
CODE = bytes.fromhex("53b81500000031db31c931d231f631ffcd805bc3")


def answer():
    print("ran:__MARK__")
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(CODE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    result = ctypes.CFUNCTYPE(ctypes.c_int)(address)()
    print("i386 mount:", result)
    return 1729 if result == 0 else 0
