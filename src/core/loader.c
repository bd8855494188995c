/*
 * loader.c - raw and ELF images into guest RAM (see loader.h).
 *
 * ELF files are parsed with libelf over a private copy of the image (libelf
 * takes a writable buffer; the caller's may be read-only). Before libelf
 * sees the image, the ELF header, program header table and section header
 * table are checked against the buffer size, so a truncated file is
 * rejected here with a reason rather than deep inside libelf. Every
 * PT_LOAD segment is validated before the first byte is copied: a failed
 * load leaves RAM untouched.
 */
#include "loader.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Formats the reason into err (when given) and returns rc. */
static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int loader_read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return MC_EIO;
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return MC_ENOMEM;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = cap < ((size_t)1 << 62) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                fclose(f);
                return MC_ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;
        free(buf);
        fclose(f);
        errno = e;
        return MC_EIO;
    }
    fclose(f);
    *data = buf;
    *size = len;
    return MC_OK;
}

bool loader_is_elf(const uint8_t *data, size_t size)
{
    return size >= 4 && memcmp(data, ELFMAG, SELFMAG) == 0;
}

int loader_load_raw(bus_t *bus, uint64_t pa, const uint8_t *data, size_t size, loader_info *info,
                    char *err, size_t errlen)
{
    if (size) {
        uint8_t *dst = bus_ram_ptr(bus, pa, size, true);
        if (!dst)
            return fail(MC_ERANGE, err, errlen, "image of %zu bytes at 0x%llx does not fit in RAM",
                        size, (unsigned long long)pa);
        memcpy(dst, data, size);
        bus_note_write(bus, pa, size);
    }
    if (info) {
        memset(info, 0, sizeof(*info));
        info->entry = pa;
        info->low = pa;
        info->high = pa + size;
    }
    return MC_OK;
}

/* Checks what libelf would otherwise trust: class, byte order, machine and
 * that the header tables lie inside the buffer. */
static int check_header(const uint8_t *data, size_t size, Elf64_Ehdr *eh, char *err, size_t errlen)
{
    if (!loader_is_elf(data, size)) return fail(MC_EFORMAT, err, errlen, "not an ELF file");
    if (size < sizeof(*eh)) return fail(MC_EFORMAT, err, errlen, "ELF header truncated");
    memcpy(eh, data, sizeof(*eh));
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return fail(MC_EFORMAT, err, errlen, "not a 64-bit ELF");
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
        return fail(MC_EFORMAT, err, errlen, "not a little-endian ELF");
    if (eh->e_machine != EM_RISCV)
        return fail(MC_EFORMAT, err, errlen, "ELF machine %u is not RISC-V", eh->e_machine);
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return fail(MC_EFORMAT, err, errlen, "ELF type %u is not an executable", eh->e_type);
    if (eh->e_phnum && eh->e_phentsize != sizeof(Elf64_Phdr))
        return fail(MC_EFORMAT, err, errlen, "bad program header size %u", eh->e_phentsize);
    if (eh->e_phoff > size || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff)
        return fail(MC_EFORMAT, err, errlen, "program headers past the end of the file");
    if (eh->e_shoff) {
        if (eh->e_shentsize != sizeof(Elf64_Shdr))
            return fail(MC_EFORMAT, err, errlen, "bad section header size %u", eh->e_shentsize);
        uint64_t n = eh->e_shnum ? eh->e_shnum : 1; /* 0: the count is in shdr[0] */
        if (eh->e_shoff > size || n * sizeof(Elf64_Shdr) > size - eh->e_shoff)
            return fail(MC_EFORMAT, err, errlen, "section headers past the end of the file");
    }
    return MC_OK;
}

/* Opens a private copy of the image with libelf. */
static int open_elf(const uint8_t *data, size_t size, Elf **elf, char **copy, char *err,
                    size_t errlen)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return fail(MC_EFORMAT, err, errlen, "libelf: %s", elf_errmsg(-1));
    *copy = malloc(size);
    if (!*copy) return MC_ENOMEM;
    memcpy(*copy, data, size);
    *elf = elf_memory(*copy, size);
    if (!*elf || elf_kind(*elf) != ELF_K_ELF) {
        if (*elf) elf_end(*elf);
        free(*copy);
        return fail(MC_EFORMAT, err, errlen, "libelf: %s", elf_errmsg(-1));
    }
    return MC_OK;
}

/* Finds name in the symbol tables of elf; MC_ENOENT when absent. */
static int find_symbol(Elf *elf, size_t size, const char *name, uint64_t *value)
{
    size_t shnum;
    if (elf_getshdrnum(elf, &shnum) != 0) return MC_EFORMAT;
    for (int pass = 0; pass < 2; pass++) {
        Elf64_Word want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
        for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh) || sh.sh_type != want) continue;
            if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset) return MC_EFORMAT;
            if (sh.sh_link == 0 || sh.sh_link >= shnum) return MC_EFORMAT;
            if (sh.sh_entsize != sizeof(Elf64_Sym)) return MC_EFORMAT;
            Elf_Data *d = elf_getdata(scn, NULL);
            if (!d) return MC_EFORMAT;
            size_t n = d->d_size / sizeof(Elf64_Sym);
            for (size_t i = 1; i < n; i++) {
                GElf_Sym sym;
                if (!gelf_getsym(d, (int)i, &sym)) return MC_EFORMAT;
                if (sym.st_name == 0 || sym.st_shndx == SHN_UNDEF) continue;
                const char *s = elf_strptr(elf, sh.sh_link, sym.st_name);
                if (s && strcmp(s, name) == 0) {
                    *value = sym.st_value;
                    return MC_OK;
                }
            }
        }
    }
    return MC_ENOENT;
}

int loader_elf_symbol(const uint8_t *data, size_t size, const char *name, uint64_t *value)
{
    Elf64_Ehdr eh;
    Elf *elf;
    char *copy;
    int rc = check_header(data, size, &eh, NULL, 0);
    if (rc < 0) return rc;
    if ((rc = open_elf(data, size, &elf, &copy, NULL, 0)) < 0) return rc;
    rc = find_symbol(elf, size, name, value);
    elf_end(elf);
    free(copy);
    return rc;
}

int loader_load_elf(bus_t *bus, const uint8_t *data, size_t size, loader_info *info, char *err,
                    size_t errlen)
{
    Elf64_Ehdr eh;
    Elf *elf;
    char *copy;
    int rc = check_header(data, size, &eh, err, errlen);
    if (rc < 0) return rc;
    if ((rc = open_elf(data, size, &elf, &copy, err, errlen)) < 0) return rc;

    loader_info li = {.is_elf = true, .entry = eh.e_entry, .low = UINT64_MAX, .high = 0};
    size_t phnum;
    if (elf_getphdrnum(elf, &phnum) != 0 || phnum != eh.e_phnum) {
        rc = fail(MC_EFORMAT, err, errlen, "bad program header count");
        goto done;
    }
    uint64_t v;
    int src = find_symbol(elf, size, "tohost", &v);
    if (src == MC_OK) {
        li.has_tohost = true;
        li.tohost = v;
    } else if (src == MC_EFORMAT) {
        rc = fail(MC_EFORMAT, err, errlen, "malformed symbol table");
        goto done;
    }
    /* Pass 0 validates every segment, pass 1 copies. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < phnum; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, (int)i, &ph)) {
                rc = fail(MC_EFORMAT, err, errlen, "program header %zu unreadable", i);
                goto done;
            }
            if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
            uint8_t *dst = bus_ram_ptr(bus, ph.p_paddr, ph.p_memsz, true);
            if (pass == 0) {
                if (ph.p_filesz > ph.p_memsz || ph.p_offset > size ||
                    ph.p_filesz > size - ph.p_offset) {
                    rc = fail(MC_EFORMAT, err, errlen, "segment %zu extends past the file", i);
                    goto done;
                }
                if (!dst || ph.p_paddr + ph.p_memsz < ph.p_paddr) {
                    rc = fail(MC_ERANGE, err, errlen,
                              "segment %zu at 0x%llx (0x%llx bytes) is not in RAM", i,
                              (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
                    goto done;
                }
                if (ph.p_paddr < li.low) li.low = ph.p_paddr;
                if (ph.p_paddr + ph.p_memsz > li.high) li.high = ph.p_paddr + ph.p_memsz;
            } else {
                memcpy(dst, data + ph.p_offset, ph.p_filesz);
                memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
                bus_note_write(bus, ph.p_paddr, ph.p_memsz);
            }
        }
        if (pass == 0 && li.high == 0) {
            rc = fail(MC_EFORMAT, err, errlen, "no loadable segment");
            goto done;
        }
    }
    if (info) *info = li;
    rc = MC_OK;
done:
    elf_end(elf);
    free(copy);
    return rc;
}

int loader_load(bus_t *bus, uint64_t raw_pa, const uint8_t *data, size_t size, loader_info *info,
                char *err, size_t errlen)
{
    if (loader_is_elf(data, size)) return loader_load_elf(bus, data, size, info, err, errlen);
    return loader_load_raw(bus, raw_pa, data, size, info, err, errlen);
}
